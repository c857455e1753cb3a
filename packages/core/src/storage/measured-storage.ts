import type { Readable } from 'node:stream';
import type { OperationMeter, OperationMetrics } from '../metrics/operations.js';
import type { BlobInfo, BlobWriter, ByteRange, PartialReader, Storage, StorageCapabilities } from './storage.js';

/**
 * Any {@link Storage} with each call timed and each failure counted by code, the one place every
 * backend gets its metrics (distribution's `base` driver wrapper). Bodies are not wrapped: `open`
 * is timed to the stream, a writer's `write` and the chunks of `list` pass straight through.
 */
export class MeasuredStorage implements Storage {
  readonly locate?: (digest: string) => Promise<string | undefined>;
  private readonly meter: OperationMeter;

  constructor(private readonly inner: Storage, metrics: OperationMetrics) {
    this.meter = metrics.meter(inner.name);
    // Present only when the backend redirects: the pipeline tests for the method itself.
    if (inner.locate) {
      const locate = inner.locate.bind(inner);
      this.locate = (digest) => this.meter.measure('locate', () => locate(digest));
    }
  }

  get name(): string {
    return this.inner.name;
  }

  get capabilities(): StorageCapabilities {
    return this.inner.capabilities;
  }

  init(): Promise<void> {
    return this.meter.measure('init', () => this.inner.init());
  }

  async writer(): Promise<BlobWriter> {
    return new MeasuredWriter(await this.meter.measure('writer', () => this.inner.writer()), this.meter);
  }

  stat(digest: string): Promise<BlobInfo | undefined> {
    return this.meter.measure('stat', () => this.inner.stat(digest));
  }

  open(digest: string, range?: ByteRange): Promise<Readable> {
    return this.meter.measure('open', () => this.inner.open(digest, range));
  }

  openReader(digest: string): Promise<PartialReader> {
    return this.meter.measure('openReader', () => this.inner.openReader(digest));
  }

  read(digest: string): Promise<Buffer> {
    return this.meter.measure('read', () => this.inner.read(digest));
  }

  delete(digest: string): Promise<boolean> {
    return this.meter.measure('delete', () => this.inner.delete(digest));
  }

  list(): AsyncIterable<BlobInfo> {
    return this.inner.list();
  }

  ping(): Promise<void> {
    return this.meter.measure('ping', () => this.inner.ping());
  }

  close(): Promise<void> {
    return this.meter.measure('close', () => this.inner.close());
  }
}

/** A writer whose commit and abort are timed; its writes go straight to the backend's. */
class MeasuredWriter implements BlobWriter {
  readonly openPartial?: () => Promise<PartialReader>;

  constructor(private readonly inner: BlobWriter, private readonly meter: OperationMeter) {
    // Present only when the backend reads back before commit (capability `readWhileWriting`).
    if (inner.openPartial) this.openPartial = inner.openPartial.bind(inner);
  }

  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }

  write(chunk: Buffer): Promise<void> {
    return this.inner.write(chunk);
  }

  commit(expected: BlobInfo): Promise<BlobInfo> {
    return this.meter.measure('commit', () => this.inner.commit(expected));
  }

  abort(): Promise<void> {
    return this.meter.measure('abort', () => this.inner.abort());
  }
}
