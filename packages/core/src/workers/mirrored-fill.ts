import { EventEmitter } from 'node:events';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BlobInfo, PartialReader, Storage } from '../storage/storage.js';
import { FillReader } from '../pipeline/fill/fill-reader.js';
import { releasableOf, verifiedOrPastOf } from '../pipeline/fill/fill-progress.js';
import { positionalReader } from '../storage/positional-reader.js';
import type { KeyEvent, FillSnapshot } from './messages.js';
import { fromWire } from './worker-channel.js';

/**
 * A fill running in another worker, as this worker's clients follow it: the bytes are read from
 * the filling worker's temp file on the shared disk, and what the fill has reached (bytes written,
 * verified, committed, failed) arrives over IPC. It answers the same questions a local `Fill` does,
 * with the same rule: the last byte and the clean end wait for verification, so a client here can
 * never hold a complete-looking body the filling worker did not verify.
 */
export class MirroredFill extends EventEmitter {
  flushed: number;
  state: FillSnapshot['state'];
  error?: Error;
  digest?: string;
  blob?: BlobInfo;
  /** Never kept here: the filling worker keeps the small body; this one reads it back on its first hit. */
  readonly memory = undefined;
  readonly expect: { readonly size?: number };
  readonly done: Promise<BlobInfo>;
  readonly seq: number;
  private settle!: { resolve: (blob: BlobInfo) => void; reject: (err: Error) => void };

  constructor(snapshot: FillSnapshot, private readonly storage: Storage) {
    super();
    this.setMaxListeners(0);
    this.seq = snapshot.seq;
    this.path = snapshot.path;
    this.expect = { size: snapshot.size };
    this.flushed = snapshot.flushed;
    this.state = 'filling';
    this.done = new Promise<BlobInfo>((resolve, reject) => { this.settle = { resolve, reject }; });
    this.done.catch(() => undefined);
    if (snapshot.state === 'failed') this.fail(fromWire(snapshot.error ?? { message: 'fill failed' }));
    else if (snapshot.state === 'committed') this.commit(snapshot.blob!);
    else if (snapshot.state === 'verified') this.verify(snapshot.flushed, snapshot.digest!);
  }

  private readonly path: string;

  get size(): number | undefined {
    return this.blob?.size ?? (this.state === 'verified' ? this.flushed : this.expect.size);
  }

  /** Applies what the filling worker reports. */
  apply(event: KeyEvent): void {
    if (this.state === 'failed' || this.state === 'committed') return;
    switch (event.t) {
      case 'progress':
        if (event.flushed > this.flushed) { this.flushed = event.flushed; this.emit('progress'); }
        return;
      case 'verified':
        this.verify(event.flushed, event.digest);
        return;
      case 'committed':
        this.commit(event.blob);
        return;
      case 'failed':
        this.fail(fromWire(event.error));
        return;
      default:
    }
  }

  /** The filling worker is gone before the fill ended: its readers here break off. */
  lost(error: Error): void {
    if (this.state === 'filling' || this.state === 'verified') this.fail(error);
  }

  releasable(): number {
    return releasableOf(this);
  }

  verifiedOrPast(limit: number): Promise<void> {
    return verifiedOrPastOf(this, limit);
  }

  async open(range?: { start: number; end: number }): Promise<Readable> {
    if (this.state === 'failed') throw this.error;
    return new FillReader(this, await this.openPartial(), range?.start ?? 0, range?.end);
  }

  /** The temp file while it is there; after the commit renamed it, the stored blob. */
  async openPartial(): Promise<PartialReader> {
    if (this.state !== 'committed') {
      try {
        return positionalReader(await open(this.path, 'r'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const blob = await this.done;
    return this.storage.openReader(blob.digest);
  }

  /** Not this worker's fill: only the worker running it (or its shutdown) can stop it. */
  abort(): void {}

  private verify(flushed: number, digest: string): void {
    this.flushed = flushed;
    this.digest = digest;
    this.state = 'verified';
    this.emit('progress');
  }

  private commit(blob: BlobInfo): void {
    this.blob = blob;
    this.digest = blob.digest;
    this.flushed = blob.size;
    this.state = 'committed';
    this.settle.resolve(blob);
    this.emit('progress');
  }

  private fail(error: Error): void {
    this.error = error;
    this.state = 'failed';
    this.settle.reject(error);
    this.emit('progress');
  }
}
