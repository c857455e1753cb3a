/** One regular file of a tar stream. */
export interface TarFile {
  readonly name: string;
  readonly data: Buffer;
}

const BLOCK = 512;

/**
 * The regular files of an uncompressed tar, in order. apk's signature and control tars are "cut"
 * (no end-of-archive blocks), so several of them simply follow one another; reading stops at the
 * first zero block or at the end of the bytes. PAX and GNU long-name headers are skipped: the
 * names apk reads (`.SIGN.*`, `.PKGINFO`, `APKINDEX`) are short.
 */
export function tarFiles(tar: Buffer): TarFile[] {
  const files: TarFile[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const name = cString(header.subarray(0, 100));
    const size = parseInt(cString(header.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    if (!Number.isFinite(size) || size < 0) throw new Error(`tar header at ${offset} has no valid size`);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new Error(`tar entry ${name} ends past the archive`);
    if (type === '0' || type === '\0') files.push({ name: prefixed(header, name), data: tar.subarray(start, start + size) });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

function prefixed(header: Buffer, name: string): string {
  const magic = header.subarray(257, 262).toString('latin1');
  const prefix = magic === 'ustar' ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}
