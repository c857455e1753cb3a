import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** What a `Packages` or `Sources` index says one pool file must be. */
export interface PoolEntry {
  readonly size: number;
  readonly sha256: string;
}

/**
 * Entries kept by default. One costs about 270 bytes of heap (Debian's main amd64 `Packages`:
 * 63,440 entries, ~16 MiB; `pnpm bench:apt`), so the default holds about 260 MiB at most: some
 * fifteen suite/architecture indexes of Debian's size.
 */
export const POOL_ENTRIES = 1_000_000;

/**
 * Pool files by path (`pool/main/h/hello/hello_2.10-3_amd64.deb`), from every index read so far.
 * A later index wins for a path it lists again: that is how a re-published file gets its new hash.
 * Bounded by `limit` entries, the least recently listed dropped first: a file whose entry was
 * dropped is checked on its length only, as one no index lists.
 */
export class PoolIndex {
  private readonly entries = new Map<string, PoolEntry>();

  constructor(readonly limit = POOL_ENTRIES) {}

  get size(): number { return this.entries.size; }

  get(file: string): PoolEntry | undefined { return this.entries.get(file); }

  /** `file` and `entry.sha256` must be strings of their own, not cut from a larger one (which they would keep alive). */
  set(file: string, entry: PoolEntry): void {
    this.entries.delete(file);
    this.entries.set(file, entry);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Adds the entries of one index, read from its (possibly compressed) bytes; returns how many. */
  async add(body: Buffer, name: string): Promise<number> {
    let count = 0;
    const add = (file: string, entry: PoolEntry) => { this.set(file, entry); count += 1; };
    const batches = lineBatches(decompressed(body, name));
    if (/(^|\/)Sources(\.\w+)?$/.test(name)) await readSources(batches, add);
    else await readPackages(batches, add);
    return count;
  }
}

/** A copy of `text` that shares no memory with the string it was cut from (which it would keep alive). */
function own(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

type Add = (file: string, entry: PoolEntry) => void;

/** Longest line read: no field of an apt index comes near it, so a longer one is not an index. */
const MAX_LINE = 1024 * 1024;

/**
 * The lines of a text stream (`\n` or `\r\n`), a chunk's worth at a time (an array per chunk,
 * not an event per line as with readline). A turn of the event loop between chunks: an index is
 * read right after it was served, and the responses still being written (its own among them) go
 * on meanwhile instead of waiting for the whole read.
 */
async function* lineBatches(input: Readable): AsyncGenerator<string[]> {
  let carry: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
    const cut = bytes.lastIndexOf(0x0a);
    if (cut < 0) {
      if (bytes.length > MAX_LINE) throw new Error(`a line of over ${MAX_LINE} bytes: not an apt index`);
      carry = Buffer.from(bytes);
      continue;
    }
    // Decoded only up to a line end, so a UTF-8 character is never cut in two.
    yield bytes.toString('utf8', 0, cut).split(/\r?\n/);
    carry = cut + 1 < bytes.length ? Buffer.from(bytes.subarray(cut + 1)) : undefined;
    await new Promise(setImmediate);
  }
  if (carry) yield carry.toString('utf8').split(/\r?\n/);
}

async function readPackages(batches: AsyncIterable<string[]>, add: Add): Promise<void> {
  let file: string | undefined, size: number | undefined, sha256: string | undefined;
  const commit = () => {
    if (file && size !== undefined && sha256) add(own(file), { size, sha256: own(sha256) });
    file = size = sha256 = undefined;
  };
  for await (const lines of batches) {
    for (const line of lines) {
      if (line === '') commit();
      else if (line.startsWith('Filename: ')) file = line.slice(10).trim();
      else if (line.startsWith('Size: ')) size = Number(line.slice(6).trim());
      else if (line.startsWith('SHA256: ')) sha256 = line.slice(8).trim().toLowerCase();
    }
  }
  commit();
}

/** A source package's files: `Checksums-Sha256:` lines below its `Directory:`. */
async function readSources(batches: AsyncIterable<string[]>, add: Add): Promise<void> {
  let directory: string | undefined;
  let files: [string, PoolEntry][] = [];
  let inSums = false;
  const commit = () => {
    if (directory) for (const [name, entry] of files) add(own(`${directory}/${name}`), entry);
    directory = undefined; files = []; inSums = false;
  };
  for await (const lines of batches) {
    for (const line of lines) {
      if (line === '') { commit(); continue; }
      if (line.startsWith(' ') && inSums) {
        const [hex, size, name] = line.trim().split(/\s+/);
        if (hex && name && /^\d+$/.test(size ?? '')) files.push([name, { size: Number(size), sha256: own(hex.toLowerCase()) }]);
        continue;
      }
      inSums = line.startsWith('Checksums-Sha256:');
      if (line.startsWith('Directory: ')) directory = line.slice(11).trim();
    }
  }
  commit();
}

/**
 * Bytes of a plain index handed to the line reader at a time, so reading one yields to the event
 * loop between runs (Debian's main `Packages` is 48 MB plain) and no run is larger than this.
 */
const CHUNK = 64 * 1024;

function* chunks(body: Buffer): Generator<Buffer> {
  for (let at = 0; at < body.length; at += CHUNK) yield body.subarray(at, at + CHUNK);
}

/** The text of an index file, whatever compression its name says it has. */
function decompressed(body: Buffer, name: string): Readable {
  const source = Readable.from(chunks(body), { objectMode: false });
  if (name.endsWith('.gz')) return source.pipe(createGunzip());
  const tool = name.endsWith('.xz') || name.endsWith('.lzma') ? 'xz' : name.endsWith('.bz2') ? 'bzip2' : name.endsWith('.zst') ? 'zstd' : undefined;
  if (!tool) return source;
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => { /* the reader sees the failure as a short stream */ });
  child.stdin.end(body);
  return child.stdout;
}

/** Whether a path below `dists/<suite>/` names an index that lists pool files. */
export function listsPool(file: string): boolean {
  return /(^|\/)(Packages|Sources)(\.(gz|xz|bz2|lzma|zst))?$/.test(file);
}
