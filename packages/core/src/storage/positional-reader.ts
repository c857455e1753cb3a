import type { FileHandle } from 'node:fs/promises';
import type { PartialReader } from './storage.js';

/** Positional reads over an open file; a read past what is written so far returns what there is. */
export function positionalReader(handle: FileHandle): PartialReader {
  return {
    async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
      const buffer = into ?? Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}
