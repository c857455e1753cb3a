import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
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

  set(file: string, entry: PoolEntry): void {
    // Fresh copies: a string cut from a line would keep the whole chunk it was read from alive
    // (about 1.5 KiB an entry instead of about 0.3 KiB for Debian's main index).
    const key = own(file);
    this.entries.delete(key);
    this.entries.set(key, { size: entry.size, sha256: own(entry.sha256) });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Adds the entries of one index, read line by line from its (possibly compressed) bytes; returns how many. */
  async add(body: Buffer, name: string): Promise<number> {
    let count = 0;
    const add = (file: string, entry: PoolEntry) => { this.set(file, entry); count += 1; };
    const lines = createInterface({ input: decompressed(body, name), crlfDelay: Infinity });
    if (/(^|\/)Sources(\.\w+)?$/.test(name)) await readSources(lines, add);
    else await readPackages(lines, add);
    return count;
  }
}

function own(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

type Add = (file: string, entry: PoolEntry) => void;

async function readPackages(lines: AsyncIterable<string>, add: Add): Promise<void> {
  let file: string | undefined, size: number | undefined, sha256: string | undefined;
  const commit = () => {
    if (file && size !== undefined && sha256) add(file, { size, sha256 });
    file = size = sha256 = undefined;
  };
  for await (const line of lines) {
    if (line === '') { commit(); continue; }
    if (line.startsWith('Filename: ')) file = line.slice(10).trim();
    else if (line.startsWith('Size: ')) size = Number(line.slice(6).trim());
    else if (line.startsWith('SHA256: ')) sha256 = line.slice(8).trim().toLowerCase();
  }
  commit();
}

/** A source package's files: `Checksums-Sha256:` lines below its `Directory:`. */
async function readSources(lines: AsyncIterable<string>, add: Add): Promise<void> {
  let directory: string | undefined;
  let files: [string, PoolEntry][] = [];
  let inSums = false;
  const commit = () => {
    if (directory) for (const [name, entry] of files) add(`${directory}/${name}`, entry);
    directory = undefined; files = []; inSums = false;
  };
  for await (const line of lines) {
    if (line === '') { commit(); continue; }
    if (line.startsWith(' ') && inSums) {
      const [hex, size, name] = line.trim().split(/\s+/);
      if (hex && name && /^\d+$/.test(size ?? '')) files.push([name, { size: Number(size), sha256: hex.toLowerCase() }]);
      continue;
    }
    inSums = line.startsWith('Checksums-Sha256:');
    if (line.startsWith('Directory: ')) directory = line.slice(11).trim();
  }
  commit();
}

/**
 * Bytes handed to the line reader at a time. One chunk becomes one string: fed whole, Debian's
 * 48 MB main `Packages` would be one string, and V8 keeps the subject of the last regular
 * expression run (readline splits lines with one), so ~95 MiB stayed alive after the read.
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
