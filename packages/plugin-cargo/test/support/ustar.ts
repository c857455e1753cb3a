import { gzipSync } from 'node:zlib';

/** One regular file of a tar archive. */
export interface TarFile { readonly path: string; readonly bytes: Buffer; readonly mode: number }

/**
 * A gzip'd ustar archive of regular files in the given order, owner 0 and mtime 0, as cargo
 * package writes a `.crate`: the same files always make the same bytes (so the same cksum).
 */
export function tarGz(files: readonly TarFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    blocks.push(header(file), file.bytes, Buffer.alloc((512 - (file.bytes.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function header(file: TarFile): Buffer {
  const h = Buffer.alloc(512);
  const { name, prefix } = splitPath(file.path);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(file.mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(file.bytes.length, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\u000000', 257, 'binary');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'binary');
  return h;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}

/** ustar keeps paths past 100 bytes as a prefix (up to 155) and a name, split at a slash. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    if (Buffer.byteLength(path.slice(i + 1)) <= 100 && Buffer.byteLength(path.slice(0, i)) <= 155) return { name: path.slice(i + 1), prefix: path.slice(0, i) };
  }
  throw new Error(`${path} is too long for a ustar archive`);
}
