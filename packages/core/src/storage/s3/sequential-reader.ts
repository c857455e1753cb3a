import type { Readable } from 'node:stream';
import type { PartialReader } from '../storage.js';

/**
 * Positional reads over a remote object, served from one ranged GET that stays open while the
 * reads are sequential (the way responses are sent) and is reopened at the new position otherwise.
 * One request per response instead of one per chunk.
 */
export class SequentialObjectReader implements PartialReader {
  private stream?: Readable;
  private iterator?: AsyncIterator<Buffer>;
  private position = 0;
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly size: number, private readonly openAt: (start: number, length: number) => Promise<Readable>) {}

  async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
    const want = Math.max(0, Math.min(length, this.size - position));
    if (want === 0) return (into ?? Buffer.alloc(0)).subarray(0, 0);
    if (!this.iterator || position !== this.position) await this.reopen(position);
    const out = into ?? Buffer.allocUnsafe(want);
    let filled = 0;
    while (filled < want) {
      if (this.pending.length === 0) {
        const next = await this.iterator!.next();
        if (next.done) break;
        this.pending = next.value;
      }
      const n = Math.min(this.pending.length, want - filled);
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

  private async reopen(position: number): Promise<void> {
    await this.close();
    this.stream = await this.openAt(position, this.size - position);
    this.iterator = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.position = position;
    this.pending = Buffer.alloc(0);
  }
}
