import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 1024 * 1024;

/**
 * Deterministic bytes of any size, made on the fly: a 1 MiB pseudo-random block, each copy
 * stamped with its index so no two MiB are equal (a backend that mixes up offsets is caught).
 * Nothing of the whole is ever held in memory.
 */
export class GeneratedBytes {
  private readonly block: Buffer;

  constructor(readonly size: number, seed = 1) {
    this.block = Buffer.alloc(BLOCK);
    let h = createHash('sha256').update(`cacheforge-conformance-${seed}`).digest();
    for (let i = 0; i < BLOCK; i += 32) { h.copy(this.block, i); h = createHash('sha256').update(h).digest(); }
  }

  /** Bytes `[start, end)`. */
  slice(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(Math.max(0, end - start));
    let pos = start;
    while (pos < end) {
      const index = Math.floor(pos / BLOCK);
      const offset = pos % BLOCK;
      const n = Math.min(BLOCK - offset, end - pos);
      this.blockAt(index).copy(out, pos - start, offset, offset + n);
      pos += n;
    }
    return out;
  }

  /** The bytes in chunks of `chunkSize`. */
  *chunks(chunkSize = BLOCK): Generator<Buffer> {
    for (let pos = 0; pos < this.size; pos += chunkSize) yield this.chunk(pos, Math.min(this.size, pos + chunkSize));
  }

  stream(chunkSize = BLOCK): Readable {
    return Readable.from(this.chunks(chunkSize), { objectMode: false });
  }

  /** Lowercase hex sha256 of all the bytes. */
  sha256(): string {
    const hash = createHash('sha256');
    for (const chunk of this.chunks()) hash.update(chunk);
    return hash.digest('hex');
  }

  private chunk(start: number, end: number): Buffer {
    return start % BLOCK === 0 && end - start === BLOCK ? Buffer.from(this.blockAt(start / BLOCK)) : this.slice(start, end);
  }

  private stamped?: { index: number; block: Buffer };

  private blockAt(index: number): Buffer {
    if (this.stamped?.index !== index) {
      const block = this.stamped?.block ?? Buffer.allocUnsafe(BLOCK);
      this.block.copy(block);
      block.writeUInt32BE(index >>> 0, 0);
      this.stamped = { index, block };
    }
    return this.stamped.block;
  }
}
