import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { cfError } from '@cacheforge/core';
import { PackageList } from './package-list.js';
import { expected, unescapeXml } from './repomd.js';

/** The packages of one primary index by `location href` (relative to the repository root). */
export type PrimaryIndex = Pick<PackageList, 'get' | 'size' | 'bytes'>;

/** Figures of one parse, for logs: how many packages, how long, how many bytes decompressed. */
export interface ParseFigures {
  readonly packages: number;
  readonly millis: number;
  readonly bytes: number;
}

/** One `<package>` element larger than this is refused: the scan's memory stays bounded. */
const MAX_ELEMENT = 16 * 1024 * 1024;

/** The decompressed stream of a primary file, by its name's extension (what `repomd.xml` names). */
export async function decompressed(href: string, body: Readable): Promise<Readable> {
  if (href.endsWith('.gz')) return body.pipe(createGunzip());
  if (href.endsWith('.zst')) return body.pipe(zstdStream());
  if (href.endsWith('.xz')) return xzStream(body);
  if (href.endsWith('.xml')) return body;
  throw cfError('CF_ERR_UPSTREAM_INVALID', `cannot read ${href}: only gzip, zstd, xz and plain primary indexes are read (not bz2)`);
}

/** zstd through fzstd's streaming decoder (Node 20's zlib has none). */
function zstdStream(): Transform {
  let decoder: Decompress;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try { decoder.push(chunk); done(); } catch (err) { done(err as Error); }
    },
    flush(done) {
      try { decoder.push(new Uint8Array(0), true); done(); } catch (err) { done(err as Error); }
    },
  });
  decoder = new Decompress((data) => { stream.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)); });
  return stream;
}

/** xz through xz-decompress's WebAssembly decoder, a web stream (a CommonJS module, loaded on first use). */
async function xzStream(body: Readable): Promise<Readable> {
  const module = (await import('xz-decompress')) as unknown as { default?: { XzReadableStream: typeof import('xz-decompress').XzReadableStream }; XzReadableStream?: typeof import('xz-decompress').XzReadableStream };
  const XzReadableStream = module.default?.XzReadableStream ?? module.XzReadableStream!;
  const web = new XzReadableStream(Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>);
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>);
}

/**
 * Reads a primary index element by element as it streams in, keeping only each package's
 * location, checksum and size, packed ({@link PackageList}): Fedora's Everything primary lists
 * ~75,000 packages, and only one element (plus one chunk) of its text is held at a time.
 */
export async function parsePrimary(xml: Readable): Promise<{ index: PrimaryIndex; figures: ParseFigures }> {
  const started = performance.now();
  const index = new PackageList();
  let carry = '';
  let bytes = 0;
  xml.setEncoding('utf8');
  for await (const chunk of xml as AsyncIterable<string>) {
    bytes += Buffer.byteLength(chunk);
    carry += chunk;
    let end: number;
    let from = 0;
    while ((end = carry.indexOf('</package>', from)) >= 0) {
      const start = elementStart(carry, end);
      if (start >= from) addPackage(index, carry.slice(start, end));
      from = end + '</package>'.length;
    }
    carry = carry.slice(from);
    if (carry.length > MAX_ELEMENT) throw cfError('CF_ERR_UPSTREAM_INVALID', 'a <package> element of the primary index is larger than 16 MiB');
  }
  return { index, figures: { packages: index.size, millis: performance.now() - started, bytes } };
}

/** Where the `<package>` element ending at `end` opens (`<packager>` shares its prefix). */
function elementStart(text: string, end: number): number {
  let at = end;
  while ((at = text.lastIndexOf('<package', at - 1)) >= 0) {
    const next = text[at + '<package'.length];
    if (next === '>' || next === ' ' || next === '\t' || next === '\n' || next === '\r') return at;
    if (at === 0) break;
  }
  return -1;
}

function addPackage(index: PackageList, element: string): void {
  const location = /<location\b([^>]*)\/?>/.exec(element)?.[1];
  const href = location && /\bhref="([^"]+)"/.exec(location)?.[1];
  if (!href) return;
  // A package kept elsewhere (`xml:base`) is fetched from there by clients, not below this root.
  if (/\bxml:base="/.test(location)) return;
  const checksum = /<checksum\b[^>]*\btype="([^"]+)"[^>]*>\s*([0-9a-fA-F]+)\s*<\/checksum>/.exec(element);
  const size = /<size\b[^>]*\bpackage="(\d+)"/.exec(element)?.[1];
  const digest = checksum ? expected(checksum[1]!, checksum[2]!) : undefined;
  index.set(unescapeXml(href), digest, size === undefined ? undefined : Number(size));
}
