import type { Readable } from 'node:stream';
import type { PartialReader } from '../storage.js';

/**
 * Positional reads over a remote object, served from one open-ended ranged GET that stays open
 * while the reads are sequential (the way responses are sent) and is reopened at the new position
 * otherwise. One request per response instead of one per chunk.
 */
export class SequentialObjectReader implements PartialReader {
  private stream?: Readable;
  private iterator?: AsyncIterator<Buffer>;
  private position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  /** `first` is a stream from byte 0; `openAt(start)` opens one from `start` to the end. */
  constructor(first: Readable, private readonly openAt: (start: number) => Promise<Readable>) {
    this.use(first, 0);
  }

  async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
    if (position !== this.position || !this.iterator) this.use(await this.openAt(position), position);
    const out = into ?? Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length && !this.ended) {
      if (this.pending.length === 0) {
        const next = await this.iterator!.next();
        if (next.done) { this.ended = true; break; }
        this.pending = next.value;
      }
      const n = Math.min(this.pending.length, length - filled);
      this.pending.copy(out, filled, 0, n);
      this.pending = this.pending.subarray(n);
      filled += n;
    }
    this.position += filled;
    return out.subarray(0, filled);
  }

  async close(): Promise<void> {
    this.stream?.destroy();
    this.stream = undefined;
    this.iterator = undefined;
  }

  private use(stream: Readable, position: number): void {
    this.stream?.destroy();
    this.stream = stream;
    this.iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.position = position;
    this.pending = Buffer.alloc(0);
    this.ended = false;
  }
}
