import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { S3Upload } from './s3-upload.js';

/** Bytes read back from the staging file per upload write. */
const CHUNK = 1024 * 1024;

/**
 * An upload that lags behind its writer through a local staging file: `write` returns once the
 * bytes are on local disk, and a loop feeds the file to the S3 upload at whatever pace S3 takes.
 * The download filling it (and its clients) therefore run at upstream speed, not at S3 upload
 * speed; `finish` waits for the upload to catch up. Memory stays at one chunk plus the upload's
 * parts, whatever the lag.
 */
export class StagedUpload {
  private written = 0;
  private ended = false;
  private failure?: Error;
  private wake?: () => void;
  private readonly pumping: Promise<void>;

  private constructor(private readonly file: string, private readonly handle: FileHandle, private readonly upload: S3Upload) {
    this.pumping = this.pump();
    this.pumping.catch(() => undefined);
  }

  static async create(dir: string, upload: S3Upload): Promise<StagedUpload> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, randomUUID());
    return new StagedUpload(file, await open(file, 'wx+'), upload);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.written + offset);
      offset += bytesWritten;
    }
    this.written += chunk.length;
    this.wake?.();
  }

  /** Waits for the upload to take every staged byte and completes it. */
  async finish(): Promise<void> {
    this.ended = true;
    this.wake?.();
    try {
      await this.pumping;
      await this.upload.finish();
    } finally {
      await this.discard();
    }
  }

  /** Stops feeding the upload and cancels it; the staging file goes. */
  async cancel(): Promise<void> {
    this.failure ??= new Error('upload cancelled');
    this.ended = true;
    this.wake?.();
    await this.pumping.catch(() => undefined);
    await this.upload.cancel();
    await this.discard();
  }

  private async pump(): Promise<void> {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let sent = 0;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (sent < this.written) {
          const { bytesRead } = await this.handle.read(buffer, 0, Math.min(CHUNK, this.written - sent), sent);
          // NOTE: a copy: the upload may hold the chunk (buffered part) after write resolves.
          await this.upload.write(Buffer.from(buffer.subarray(0, bytesRead)));
          sent += bytesRead;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
      }
    } catch (err) {
      this.failure ??= err as Error;
      throw err;
    }
  }

  private async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.file, { force: true });
  }
}
