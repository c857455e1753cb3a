import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cfError } from '../../errors/errors.js';
import type { Expectation } from '../../contract/index.js';
import type { BlobInfo, BlobWriter, PartialReader } from '../../storage/storage.js';
import { BodyCheck } from './body-check.js';
import { FillReader } from './fill-reader.js';
import { releasableOf, verifiedOrPastOf } from './fill-progress.js';
import type { Readable } from 'node:stream';

/** What a fill is checked against before it may be committed. */
export interface FillExpectations {
  /** The length the body must have: the upstream's Content-Length, else the size the index lists. */
  readonly size?: number;
  /** What the bytes must be (digests, size, the format's own check). */
  readonly expectation: Expectation;
  /** Throws the policy's error when a body of `size` bytes is too large. */
  readonly checkSize: (size: number) => void;
  /** Keep the body in memory too when it is at most this many bytes (for the hot tier). */
  readonly keepInMemory: number;
  /** For error messages. */
  readonly describe: string;
  /** Reads the committed blob, for readers that join after a spooled fill dropped its spool. */
  readonly openCommitted?: (digest: string) => Promise<PartialReader>;
}

type FillState = 'filling' | 'verified' | 'committed' | 'failed';

/**
 * One upstream body on its way into storage. Bytes are hashed and written to a two-phase blob
 * writer; any number of readers (the client that caused the fill and every client that arrived
 * while it runs) follow the written bytes as they land, each at its own pace, so a slow client
 * never slows the fill and no client waits for the whole download. A reader's stream ends only
 * after the length and digest checks pass: an unverified body never ends cleanly.
 */
export class Fill extends EventEmitter {
  /** Bytes written and readable so far. */
  flushed = 0;
  state: FillState = 'filling';
  error?: Error;
  /** The sha256 of the bytes, once `state` is `verified`. */
  digest?: string;
  /** The committed blob, once `state` is `committed`. */
  blob?: BlobInfo;
  /** The whole body, when it was small enough to keep (see `keepInMemory`). */
  memory?: Buffer;
  /** Resolves with the blob once verified and committed; rejects when the fill fails. */
  readonly done: Promise<BlobInfo>;
  private readonly chunks: Buffer[] = [];
  private keep: boolean;

  constructor(
    private readonly source: Readable,
    private readonly writer: BlobWriter,
    /** A second writer that readers follow when storage cannot read back before commit. */
    private readonly spool: BlobWriter | undefined,
    readonly expect: FillExpectations,
  ) {
    super();
    this.setMaxListeners(0);
    this.keep = expect.keepInMemory > 0 && (expect.size === undefined || expect.size <= expect.keepInMemory);
    this.done = this.run();
    this.done.catch(() => undefined);
  }

  /** Size of the final blob when known (Content-Length, or after the body ended). */
  get size(): number | undefined {
    return this.blob?.size ?? (this.state === 'verified' ? this.flushed : this.expect.size);
  }

  /**
   * Opens a reader of the bytes `[start, end]` (inclusive) or all of them, following the fill.
   * The file is opened before this resolves, so a failure here is an error response, not a
   * response that dies before its first byte.
   */
  async open(range?: { start: number; end: number }): Promise<Readable> {
    if (this.state === 'failed') throw this.error;
    return new FillReader(this, await this.openPartial(), range?.start ?? 0, range?.end);
  }

  /** How many bytes a reader may take now: the last one is held back until verification. */
  releasable(): number {
    return releasableOf(this);
  }

  /** See {@link verifiedOrPastOf}: verified, or past `limit` bytes; rejects when the fill fails first. */
  verifiedOrPast(limit: number): Promise<void> {
    return verifiedOrPastOf(this, limit);
  }

  /** The local file other processes may follow the bytes in until commit (see `BlobWriter.localPath`). */
  get localPath(): string | undefined {
    return (this.spool ?? this.writer).localPath;
  }

  /** Opens positional reads over the bytes written so far. */
  openPartial(): Promise<PartialReader> {
    if (this.spool && this.state === 'committed' && this.expect.openCommitted) return this.expect.openCommitted(this.blob!.digest);
    const source = this.spool ?? this.writer;
    if (!source.openPartial) throw new Error('fill has no readable writer');
    return source.openPartial();
  }

  /** Reads written bytes by position, for a verifier that needs more than the stream (a zip's end). */
  private async readWritten(position: number, length: number): Promise<Buffer> {
    const reader = await this.openPartial();
    try {
      return Buffer.from(await reader.read(position, length));
    } finally {
      await reader.close();
    }
  }

  /** Stops the fill (shutdown); readers see the error. */
  abort(reason: Error): void {
    this.source.destroy(reason);
  }

  private async run(): Promise<BlobInfo> {
    const tracker = new BodyCheck(this.expect.expectation, this.expect.describe);
    const writeChunk = (chunk: Buffer, callback: (error?: Error | null) => void): void => {
      tracker.update(chunk);
      try { this.expect.checkSize(tracker.size); } catch (err) { callback(err as Error); return; }
      if (this.expect.size !== undefined && tracker.size > this.expect.size) {
        callback(cfError('CF_ERR_UPSTREAM_LENGTH_MISMATCH', `${this.expect.describe}: more bytes than the ${this.expect.size} announced`));
        return;
      }
      if (this.keep) {
        if (tracker.size <= this.expect.keepInMemory) this.chunks.push(chunk);
        else { this.keep = false; this.chunks.length = 0; }
      }
      const writes = this.spool ? Promise.all([this.writer.write(chunk), this.spool.write(chunk)]) : this.writer.write(chunk);
      writes.then(() => {
        this.flushed += chunk.length;
        this.emit('progress');
        callback();
      }, callback);
    };
    const sink = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => writeChunk(chunk, callback),
      // Chunks that arrive while a write is in flight go to disk as one write: one syscall and
      // one wake-up of the readers per batch instead of per 16-64 KiB network chunk.
      writev: (chunks, callback) => writeChunk(chunks.length === 1 ? chunks[0]!.chunk as Buffer : Buffer.concat(chunks.map((c) => c.chunk as Buffer)), callback),
    });
    try {
      await pipeline(this.source, sink);
      if (this.expect.size !== undefined && tracker.size !== this.expect.size) {
        throw cfError('CF_ERR_UPSTREAM_LENGTH_MISMATCH', `${this.expect.describe}: got ${tracker.size} bytes, upstream announced ${this.expect.size}`);
      }
      const sha256 = await tracker.finish((position, length) => this.readWritten(position, length));
      this.digest = sha256;
      this.state = 'verified';
      this.emit('progress');
      this.blob = await this.writer.commit({ digest: sha256, size: tracker.size });
      if (this.keep) this.memory = Buffer.concat(this.chunks, tracker.size);
      this.state = 'committed';
      this.emit('progress');
      return this.blob;
    } catch (err) {
      // Discard first, then tell the readers: by the time a client sees the failure, nothing of
      // the failed download is left in storage.
      await this.writer.abort();
      this.error = err as Error;
      this.state = 'failed';
      this.emit('progress');
      throw err;
    } finally {
      this.chunks.length = 0;
      await this.spool?.abort();
    }
  }
}
