import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as Minio from 'minio';

/** How long a cancelled multipart upload gets to wind down before its temporary is removed anyway. */
const CANCEL_GRACE_MS = 30_000;

/**
 * One object upload fed chunk by chunk. Bytes are held in memory up to one part: a body that
 * fits (small files, empty ones) goes up in a single PUT when it ends; a larger one turns into a
 * streamed multipart upload, where `write` waits while the client has a part in flight, so memory
 * stays at about two parts whatever the size.
 */
export class S3Upload {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private stream?: PassThrough;
  private upload?: Promise<unknown>;
  private failure?: Error;

  constructor(
    private readonly client: Minio.Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      if (this.bufferedBytes <= this.client.partSize) return;
      this.startMultipart();
      return;
    }
    if (!this.stream.write(chunk)) await this.drained();
  }

  /** Completes the upload; the object then exists under the key. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream) {
      const body = Buffer.concat(this.buffered, this.bufferedBytes);
      this.buffered = [];
      await this.client.putObject(this.bucket, this.key, body, body.length);
      return;
    }
    this.stream.end();
    await this.upload;
  }

  /**
   * Stops the upload. NOTE: minio pipes our stream into its part chunker without forwarding
   * errors, so destroying the stream would leave the upload hanging; ending it lets the upload
   * settle (at most one more part), after which the caller removes the temporary.
   */
  async cancel(): Promise<void> {
    this.buffered = [];
    if (!this.stream) return;
    this.failure ??= new Error('upload cancelled');
    this.stream.end();
    await Promise.race([this.upload!.catch(() => undefined), sleep(CANCEL_GRACE_MS, undefined, { ref: false })]);
  }

  private startMultipart(): void {
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.stream = stream;
    this.upload = this.client.putObject(this.bucket, this.key, stream);
    this.upload.catch((err: unknown) => { this.failure ??= err as Error; stream.emit('upload-failed'); });
    for (const chunk of this.buffered) stream.write(chunk);
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  private async drained(): Promise<void> {
    const done = new AbortController();
    try {
      await Promise.race([once(this.stream!, 'drain', { signal: done.signal }), once(this.stream!, 'upload-failed', { signal: done.signal })]);
    } finally {
      done.abort(); // removes the listener of the event that did not happen
    }
    if (this.failure) throw this.failure;
  }
}
