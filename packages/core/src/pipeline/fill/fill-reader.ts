import { Readable } from 'node:stream';
import type { PartialReader } from '../../storage/storage.js';

/** What a reader follows: a body being written, its progress announced by `progress` events. */
export interface FollowedBody {
  readonly state: 'filling' | 'verified' | 'committed' | 'failed';
  readonly error?: Error;
  readonly flushed: number;
  /** How many bytes a reader may take now (the last one waits for verification). */
  releasable(): number;
  on(event: 'progress', listener: () => void): unknown;
  off(event: 'progress', listener: () => void): unknown;
}

// NOTE: 256 KiB reads keep a fill's readers from churning through fresh 1 MiB buffers (RSS).
const CHUNK = 256 * 1024;

/**
 * A stream of a fill's bytes from `start` to `end` (inclusive), reading what has been
 * written and waiting for more. It ends only once the fill is verified and fails with the fill's
 * error, so a client never mistakes a failed download for a complete one.
 */
export class FillReader extends Readable {
  private position: number;
  private reader?: PartialReader;
  private reading = false;
  private readonly onProgress = () => { if (this.waiting) { this.waiting = false; this.pump(); } };
  private waiting = false;

  constructor(private readonly fill: FollowedBody, reader: PartialReader, start: number, private readonly end?: number) {
    super({ highWaterMark: CHUNK });
    this.reader = reader;
    this.position = start;
    fill.on('progress', this.onProgress);
  }

  override _read(): void {
    this.pump();
  }

  private pump(): void {
    if (this.reading || this.destroyed) return;
    this.reading = true;
    this.step().then(() => { this.reading = false; }, (err: Error) => { this.reading = false; this.destroy(err); });
  }

  private async step(): Promise<void> {
    for (;;) {
      const fill = this.fill;
      if (fill.state === 'failed') { this.destroy(fill.error); return; }
      const stop = this.end === undefined ? Infinity : this.end + 1;
      const complete = fill.state === 'verified' || fill.state === 'committed';
      // The last byte this response owes waits for verification, whatever range it is: a
      // client must never hold a complete-looking body of unverified bytes.
      const available = Math.min(fill.releasable(), complete ? stop : stop - 1);
      if (this.position < available) {
        if (!this.reader) return;
        const chunk = await this.reader.read(this.position, Math.min(CHUNK, available - this.position));
        if (chunk.length === 0) { this.waiting = true; return; }
        this.position += chunk.length;
        if (!this.push(chunk)) return;
        continue;
      }
      if (complete && (this.position >= stop || this.position >= fill.flushed)) { this.push(null); return; }
      this.waiting = true;
      return;
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.fill.off('progress', this.onProgress);
    const reader = this.reader;
    this.reader = undefined;
    if (reader) reader.close().then(() => callback(err), () => callback(err));
    else callback(err);
  }
}
