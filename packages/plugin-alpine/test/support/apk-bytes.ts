import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * apk-format bytes made in process, for tests that need a package of any size on the fly (the
 * fault matrix): the same member layout as the Python fixture (signature, control, data), with a
 * signature member that holds no real RSA signature (Cache Forge does not check it; apk would).
 */

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write((1700000000).toString(8).padStart(11, '0') + '\0', 136);
  h.write('        ', 148); h.write('0', 156); h.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A tar of regular files; `cut` leaves out the end-of-archive blocks, as apk's control tars do. */
export function tar(files: ReadonlyArray<readonly [string, Buffer]>, cut = false): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files) parts.push(header(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  if (!cut) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface BuiltApk { readonly file: string; readonly bytes: Buffer; readonly record: string }

/** A signed-layout package whose data member carries `payload`. */
export function buildApk(name: string, version: string, payload: Buffer): BuiltApk {
  const data = gzipSync(tar([[`usr/share/${name}/payload`, payload]]));
  const pkginfo = `pkgname = ${name}\npkgver = ${version}\narch = x86_64\nsize = ${payload.length}\ndatahash = ${createHash('sha256').update(data).digest('hex')}\n`;
  const control = gzipSync(tar([['.PKGINFO', Buffer.from(pkginfo)]], true));
  const signature = gzipSync(tar([['.SIGN.RSA.fixture.rsa.pub', createHash('sha512').update(control).digest()]], true));
  const bytes = Buffer.concat([signature, control, data]);
  const checksum = `Q1${createHash('sha1').update(control).digest('base64')}`;
  return { file: `${name}-${version}.apk`, bytes, record: `C:${checksum}\nP:${name}\nV:${version}\nA:x86_64\nS:${bytes.length}\nI:${payload.length}\n\n` };
}

/** An `APKINDEX.tar.gz` listing `records` (unsigned); `padding` (bytes gzip cannot shrink) makes it as large as a test needs. */
export function buildIndex(records: readonly string[], padding: Buffer = Buffer.alloc(0)): Buffer {
  return gzipSync(tar([['DESCRIPTION', Buffer.from('fixture\n')], ['PADDING', padding], ['APKINDEX', Buffer.from(records.join(''))]]));
}
