// The files the upstream serves: random bytes, each file different, so every cold miss is cold.
import { openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { randomFillSync, createHash } from 'node:crypto';
import path from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/**
 * Writes `specs` ({ name: sizeInBytes }) into `dir` and returns { name: { path, size, sha256 } }.
 */
export function generateFiles(dir, specs) {
  mkdirSync(dir, { recursive: true });
  const chunk = Buffer.allocUnsafe(MiB);
  const out = {};
  for (const [name, size] of Object.entries(specs)) {
    const file = path.join(dir, name);
    const fd = openSync(file, 'w', 0o644);
    const hash = createHash('sha256');
    for (let written = 0; written < size;) {
      const n = Math.min(chunk.length, size - written);
      const piece = chunk.subarray(0, n);
      randomFillSync(piece);
      writeSync(fd, piece);
      hash.update(piece);
      written += n;
    }
    closeSync(fd);
    out[name] = { path: file, size, sha256: hash.digest('hex') };
  }
  return out;
}
