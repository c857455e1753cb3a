import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { SHA256_HEX, type BlobInfo, type BlobWriter, type ByteRange, type PartialReader, type Storage } from '../storage.js';
import { blobNotFound } from '../blob-errors.js';
import { GuardedWriter } from '../guarded-writer.js';
import { S3Bucket, isNotFound, s3Code, type S3StorageOptions } from './s3-bucket.js';
import { S3Upload } from './s3-upload.js';
import { S3WriteSteps } from './s3-writer.js';
import { SequentialObjectReader } from './sequential-reader.js';
import { StagedUpload } from './staged-upload.js';

export type { S3StorageOptions } from './s3-bucket.js';

/**
 * Blobs as S3 objects under `<prefix>sha256/<2 hex>/<64 hex>`. A write streams to a temporary
 * object `<prefix>tmp/<uuid>` (multipart, about two parts in memory; through a local staging file
 * when `staging` is set) and becomes visible under its digest only through a server-side copy
 * after the size check: a reader never sees a partial object, and a writer that dies leaves at
 * most a temporary that a later `init` sweeps.
 * S3 cannot read an upload back before it completes, so `readWhileWriting` is false and the
 * pipeline lets concurrent clients follow a local spool file instead.
 */
export class S3Storage implements Storage {
  readonly name = 's3';
  readonly capabilities = { readWhileWriting: false } as const;
  readonly locate?: (digest: string) => Promise<string | undefined>;
  private readonly space: S3Bucket;

  constructor(private readonly options: S3StorageOptions) {
    this.space = new S3Bucket(options);
    const expiry = options.redirectExpiry;
    if (expiry) {
      this.locate = async (digest) => (await this.space.connected()).presignedGetObject(this.bucket, this.space.blobKey(digest), Math.ceil(expiry / 1000))
        .catch((err: unknown) => { throw this.space.failure('presign', err); });
    }
  }

  get bucket(): string {
    return this.space.name;
  }

  /** The minio client, once `init` (or any other call) has loaded it. */
  get client(): Minio.Client {
    return this.space.client;
  }

  init(): Promise<void> {
    return this.space.prepare();
  }

  async writer(): Promise<BlobWriter> {
    const tempKey = this.space.temporaryKey();
    const upload = new S3Upload(await this.space.connected(), this.bucket, tempKey);
    const staged = this.options.staging ? await StagedUpload.create(this.options.staging, upload) : upload;
    return new GuardedWriter(new S3WriteSteps(this.space, staged, tempKey), (op, err) => this.space.failure(op, err));
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const s3 = await this.space.connected();
    try {
      const info = await s3.statObject(this.bucket, this.space.blobKey(digest));
      return { digest, size: info.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.space.failure('stat', err);
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Readable> {
    const s3 = await this.space.connected();
    const key = this.space.blobKey(digest);
    try {
      if (!range) return await s3.getObject(this.bucket, key);
      return await s3.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1);
    } catch (err) {
      throw this.readError('open', digest, err);
    }
  }

  async openReader(digest: string): Promise<PartialReader> {
    const key = this.space.blobKey(digest);
    const s3 = await this.space.connected();
    const openAt = (start: number) => s3.getPartialObject(this.bucket, key, start).catch((err: unknown) => {
      // Reading at (or past) the end is a short read of nothing, as on a file, not an error.
      if (start > 0 && s3Code(err) === 'InvalidRange') return Readable.from([]);
      throw this.readError('openReader', digest, err);
    });
    // The first GET (from byte 0, open-ended) answers whether the blob exists and is usually the
    // one the whole response is read from: no separate HEAD per hit.
    return new SequentialObjectReader(await openAt(0), openAt);
  }

  async read(digest: string): Promise<Buffer> {
    const stream = await this.open(digest);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.space.failure('read', err);
    }
    return Buffer.concat(chunks);
  }

  async delete(digest: string): Promise<boolean> {
    const s3 = await this.space.connected();
    const existed = (await this.stat(digest)) !== undefined;
    try {
      await s3.removeObject(this.bucket, this.space.blobKey(digest));
    } catch (err) {
      if (!isNotFound(err)) throw this.space.failure('delete', err);
    }
    return existed;
  }

  async *list(): AsyncIterable<BlobInfo> {
    const s3 = await this.space.connected();
    const base = this.space.blobPrefix;
    try {
      for await (const item of s3.listObjectsV2(this.bucket, base, true) as AsyncIterable<Minio.BucketItem>) {
        const digest = item.name?.slice(base.length + 3);
        if (digest && SHA256_HEX.test(digest) && item.name === this.space.blobKey(digest)) yield { digest, size: item.size };
      }
    } catch (err) {
      throw this.space.failure('list', err);
    }
  }

  async ping(): Promise<void> {
    const s3 = await this.space.connected();
    const probe = this.space.temporaryKey(`.ping-${randomUUID()}`);
    try {
      await s3.putObject(this.bucket, probe, Buffer.alloc(0), 0);
      await s3.removeObject(this.bucket, probe);
    } catch (err) {
      throw this.space.failure('ping', err);
    }
  }

  async close(): Promise<void> {}

  private readError(op: string, digest: string, err: unknown) {
    return isNotFound(err) ? blobNotFound(digest, op) : this.space.failure(op, err);
  }
}
