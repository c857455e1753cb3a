import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { cfError } from '../../errors/errors.js';
import type { BlobInfo, BlobWriter, PartialReader, Storage } from '../../storage/storage.js';
import { FillReader } from '../fill/fill-reader.js';
import { releasableOf, verifiedOrPastOf } from '../fill/fill-progress.js';

/**
 * A fill running on another replica, as this replica's clients follow it: the winner's internal
 * route streams the bytes, which land in a local spool file that every client here reads at its
 * own pace. The winner holds back its last byte until it has verified and breaks the connection
 * when it fails, so a stream that ends cleanly and whole is a verified body; only then may the
 * clients here have their own last byte and clean end. Anything else fails them (broken, never short).
 */
export class RemoteFill extends EventEmitter {
  flushed = 0;
  state: 'filling' | 'verified' | 'committed' | 'failed' = 'filling';
  error?: Error;
  digest?: string;
  blob?: BlobInfo;
  /** Never kept here: the winner keeps the small body; this replica reads it back on its first hit. */
  readonly memory = undefined;
  /** Never a file another worker here may follow: other workers wait for the commit. */
  readonly localPath = undefined;
  readonly expect: { readonly size?: number };
  /** Resolves once the winner's bytes are all here and verified; rejects when the stream broke. */
  readonly verified: Promise<void>;
  /** Resolves with the blob once the winner's commit is seen (`committed`); rejects when the fill failed. */
  readonly done: Promise<BlobInfo>;
  private settle!: { resolve: (blob: BlobInfo) => void; reject: (err: Error) => void };

  constructor(private readonly response: IncomingMessage, private readonly writer: BlobWriter, private readonly storage: Storage, size?: number) {
    super();
    this.setMaxListeners(0);
    this.expect = { size };
    this.done = new Promise<BlobInfo>((resolve, reject) => { this.settle = { resolve, reject }; });
    this.done.catch(() => undefined);
    this.verified = this.run();
    this.verified.catch(() => undefined);
  }

  get size(): number | undefined {
    return this.blob?.size ?? (this.state === 'verified' ? this.flushed : this.expect.size);
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

  /** The spool file while the stream runs; once the winner's commit is seen, the stored blob. */
  openPartial(): Promise<PartialReader> {
    if (this.state === 'committed') return this.storage.openReader(this.blob!.digest);
    if (!this.writer.openPartial) throw new Error('spool has no readable writer');
    return this.writer.openPartial();
  }

  /** Not this replica's fill: only the winner can stop it. Stops following it. */
  abort(reason: Error): void {
    this.response.destroy(reason);
  }

  /** The winner's commit, seen in the metadata: later readers read the stored blob, the spool goes. */
  committed(blob: BlobInfo): void {
    if (this.state !== 'verified') return;
    this.blob = blob;
    this.digest = blob.digest;
    this.state = 'committed';
    this.settle.resolve(blob);
    this.emit('progress');
    void this.writer.abort().catch(() => undefined);
  }

  /** The winner verified but its commit was never seen: readers already open keep their file. */
  unrecorded(error: Error): void {
    this.settle.reject(error);
    void this.writer.abort().catch(() => undefined);
  }

  private async run(): Promise<void> {
    try {
      for await (const chunk of this.response as AsyncIterable<Buffer>) {
        await this.writer.write(chunk);
        this.flushed += chunk.length;
        this.emit('progress');
      }
      const size = this.expect.size;
      if (!this.response.complete || (size !== undefined && this.flushed !== size)) throw broken();
      this.state = 'verified';
      this.emit('progress');
    } catch (err) {
      await this.writer.abort().catch(() => undefined);
      this.error = broken(err);
      this.state = 'failed';
      this.settle.reject(this.error);
      this.emit('progress');
      throw this.error;
    }
  }
}

function broken(cause?: unknown): Error {
  return cfError('CF_ERR_UPSTREAM_UNAVAILABLE', 'the replica filling this object broke off its stream', { cause });
}
