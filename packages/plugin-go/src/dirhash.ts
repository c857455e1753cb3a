import { createHash, type Hash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { BodyVerifier, FinishedBody } from '@cacheforge/core';

/** The `h1:` hash of named files (go's dirhash Hash1): sha256 over `<sha256 hex>  <name>\n` lines sorted by name. */
export function hash1(files: ReadonlyMap<string, string>): string {
  const summary = createHash('sha256');
  for (const name of [...files.keys()].sort()) {
    if (name.includes('\n')) throw new Error('a file name holds a newline');
    summary.update(`${files.get(name)!}  ${name}\n`);
  }
  return `h1:${summary.digest('base64')}`;
}

/** Checks a `.mod` as it streams: the hash of the one file `go.mod`. */
export class ModVerifier implements BodyVerifier {
  private readonly sha = createHash('sha256');
  constructor(private readonly expected: string) {}
  update(chunk: Buffer): void { this.sha.update(chunk); }
  finish(): void {
    const got = hash1(new Map([['go.mod', this.sha.digest('hex')]]));
    if (got !== this.expected) throw new Error(`go.mod hash ${got} is not the checksum database's ${this.expected}`);
  }
}

/** Largest module zip the go command accepts (500 MiB), and so the most a verifier will inflate. */
const MAX_UNZIPPED = 500 * 1024 * 1024;
const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface ZipEntry { name: string; method: number; compressed: number; size: number; offset: number }

/** Checks a module `.zip` once whole: the dirhash of its files, read through its central directory. */
export class ZipVerifier implements BodyVerifier {
  constructor(private readonly expected: string) {}
  update(): void { /* the zip is read by position once finished */ }
  async finish(body: FinishedBody): Promise<void> {
    const files = new Map<string, string>();
    let total = 0;
    for (const entry of await centralDirectory(body)) {
      if (files.has(entry.name)) throw new Error(`the zip holds ${entry.name} twice`);
      total += entry.size;
      if (total > MAX_UNZIPPED) throw new Error('the zip unpacks to more than 500 MiB');
      files.set(entry.name, await entryHash(body, entry));
    }
    const got = hash1(files);
    if (got !== this.expected) throw new Error(`zip hash ${got} is not the checksum database's ${this.expected}`);
  }
}

async function centralDirectory(body: FinishedBody): Promise<ZipEntry[]> {
  const tailLength = Math.min(body.size, 22 + 0xffff);
  const tail = await body.read(body.size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { at = i; break; }
  if (at < 0) throw new Error('not a zip: no end of central directory');
  const count = tail.readUInt16LE(at + 10);
  const size = tail.readUInt32LE(at + 12);
  const offset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || offset === 0xffffffff || offset + size > body.size) throw new Error('zip64 or a broken central directory');
  const dir = await body.read(offset, size);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) throw new Error('a broken central directory entry');
    const nameLength = dir.readUInt16LE(p + 28);
    const skip = nameLength + dir.readUInt16LE(p + 30) + dir.readUInt16LE(p + 32);
    entries.push({
      method: dir.readUInt16LE(p + 10), compressed: dir.readUInt32LE(p + 20), size: dir.readUInt32LE(p + 24),
      offset: dir.readUInt32LE(p + 42), name: dir.subarray(p + 46, p + 46 + nameLength).toString('utf8'),
    });
    p += 46 + skip;
  }
  return entries;
}

async function entryHash(body: FinishedBody, entry: ZipEntry): Promise<string> {
  const header = await body.read(entry.offset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL) throw new Error(`${entry.name}: no local header`);
  const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const data = await body.read(start, entry.compressed);
  if (data.length !== entry.compressed) throw new Error(`${entry.name}: truncated`);
  const sha: Hash = createHash('sha256');
  if (entry.method === 0) sha.update(data);
  else if (entry.method === 8) sha.update(inflateRawSync(data, { maxOutputLength: Math.max(1, entry.size) }));
  else throw new Error(`${entry.name}: compression method ${entry.method} is not one go reads`);
  return sha.digest('hex');
}
