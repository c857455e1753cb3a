import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { cfError } from '../../errors/errors.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { SHA256_HEX, type BlobInfo, type BlobWriter, type ByteRange, type PartialReader, type Storage } from '../storage.js';
import { S3Upload } from './s3-upload.js';
import { SequentialObjectReader } from './sequential-reader.js';
import { StagedUpload } from './staged-upload.js';

/** What a writer feeds: the upload itself, or a staged one in front of it. */
type Upload = Pick<S3Upload, 'bytesWritten' | 'write' | 'finish' | 'cancel'>;

/** Options of {@link S3Storage} (the `storage.s3` config block). */
export interface S3StorageOptions {
  readonly endPoint: string;
  readonly port?: number;
  readonly useSSL: boolean;
  readonly region: string;
  readonly bucket: string;
  /** Key prefix of everything this store writes (`''` or ending in `/`). */
  readonly prefix: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sessionToken?: string;
  /** Path-style URLs (`host/bucket/key`), as MinIO and most self-hosted S3s want. */
  readonly pathStyle: boolean;
  /** Multipart part size in bytes (each upload buffers one part in memory). */
  readonly partSize: number;
  /** Temporaries older than this (ms) are leftovers of a crashed writer and removed by `init`. */
  readonly staleTemporaryAfter: number;
  /**
   * A local folder uploads are staged in, so a write returns at disk speed and the upload to S3
   * lags behind (see {@link StagedUpload}); absent = writes wait for the upload.
   */
  readonly staging?: string;
  /** Serve hits by redirecting clients to presigned URLs valid this long (ms); absent = stream them. */
  readonly redirectExpiry?: number;
  /** What "older than `staleTemporaryAfter`" is measured against; default the wall clock. */
  readonly clock?: Clock;
}

/** S3 refuses a single-request copy above 5 GiB; larger blobs are copied part by part. */
const MAX_SINGLE_COPY = 5 * 1024 ** 3;

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
  private sdk?: typeof Minio;
  private connecting?: Promise<Minio.Client>;
  private connectedClient?: Minio.Client;
  readonly bucket: string;
  readonly locate?: (digest: string) => Promise<string | undefined>;
  private readonly prefix: string;

  constructor(private readonly options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    const expiry = options.redirectExpiry;
    if (expiry) {
      this.locate = async (digest) => (await this.connected()).presignedGetObject(this.bucket, this.blobKey(digest), Math.ceil(expiry / 1000))
        .catch((err: unknown) => { throw this.backendError('presign', err); });
    }
  }

  /** The minio client, once `init` (or any other call) has loaded it. */
  get client(): Minio.Client {
    if (!this.connectedClient) throw new Error('S3Storage: call init() first');
    return this.connectedClient;
  }

  /**
   * The minio client, created on first use. NOTE: loaded lazily because minio alone adds ~40 MB
   * to a process's memory, which installations on the filesystem backend should not pay.
   */
  private connected(): Promise<Minio.Client> {
    this.connecting ??= import('minio').then((sdk) => {
      this.sdk = sdk;
      const o = this.options;
      this.connectedClient = new sdk.Client({
        endPoint: o.endPoint, port: o.port, useSSL: o.useSSL, region: o.region, accessKey: o.accessKey, secretKey: o.secretKey,
        sessionToken: o.sessionToken, pathStyle: o.pathStyle, partSize: o.partSize,
      });
      return this.connectedClient;
    });
    return this.connecting;
  }

  async init(): Promise<void> {
    const s3 = await this.connected();
    let exists: boolean;
    try {
      exists = await s3.bucketExists(this.bucket);
    } catch (err) {
      throw this.backendError('init', err, `cannot reach bucket ${this.bucket} at ${this.describeEndpoint()}`);
    }
    if (!exists) {
      try {
        await s3.makeBucket(this.bucket, this.options.region);
      } catch (err) {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(s3Code(err) ?? '')) {
          throw this.backendError('init', err, `bucket ${this.bucket} does not exist at ${this.describeEndpoint()} and could not be created (create it, or give the credentials s3:CreateBucket)`);
        }
      }
    }
    await this.sweepTemporaries();
  }

  async writer(): Promise<BlobWriter> {
    const tempKey = `${this.prefix}tmp/${randomUUID()}`;
    const upload = new S3Upload(await this.connected(), this.bucket, tempKey);
    return new S3Writer(this, this.options.staging ? await StagedUpload.create(this.options.staging, upload) : upload, tempKey);
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const s3 = await this.connected();
    try {
      const info = await s3.statObject(this.bucket, this.blobKey(digest));
      return { digest, size: info.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.backendError('stat', err);
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Readable> {
    const s3 = await this.connected();
    const key = this.blobKey(digest);
    try {
      if (!range) return await s3.getObject(this.bucket, key);
      return await s3.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1);
    } catch (err) {
      throw this.readError('open', digest, err);
    }
  }

  async openReader(digest: string): Promise<PartialReader> {
    const key = this.blobKey(digest);
    const s3 = await this.connected();
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
      throw this.backendError('read', err);
    }
    return Buffer.concat(chunks);
  }

  async delete(digest: string): Promise<boolean> {
    const s3 = await this.connected();
    const existed = (await this.stat(digest)) !== undefined;
    try {
      await s3.removeObject(this.bucket, this.blobKey(digest));
    } catch (err) {
      if (!isNotFound(err)) throw this.backendError('delete', err);
    }
    return existed;
  }

  async *list(): AsyncIterable<BlobInfo> {
    const s3 = await this.connected();
    const base = `${this.prefix}sha256/`;
    try {
      for await (const item of s3.listObjectsV2(this.bucket, base, true) as AsyncIterable<Minio.BucketItem>) {
        const digest = item.name?.slice(base.length + 3);
        if (digest && SHA256_HEX.test(digest) && item.name === this.blobKey(digest)) yield { digest, size: item.size };
      }
    } catch (err) {
      throw this.backendError('list', err);
    }
  }

  async ping(): Promise<void> {
    const s3 = await this.connected();
    const probe = `${this.prefix}tmp/.ping-${randomUUID()}`;
    try {
      await s3.putObject(this.bucket, probe, Buffer.alloc(0), 0);
      await s3.removeObject(this.bucket, probe);
    } catch (err) {
      throw this.backendError('ping', err);
    }
  }

  async close(): Promise<void> {}

  /** Makes a complete temporary visible under its digest (server-side copy), then drops it. */
  async publish(tempKey: string, blob: BlobInfo): Promise<void> {
    const s3 = await this.connected();
    const target = this.blobKey(blob.digest);
    // Same digest = same bytes: another writer (or replica) already published them.
    if (!await this.stat(blob.digest)) {
      if (blob.size <= MAX_SINGLE_COPY) {
        await s3.copyObject(this.bucket, target, `/${this.bucket}/${tempKey}`);
      } else {
        await s3.composeObject(
          new this.sdk!.CopyDestinationOptions({ Bucket: this.bucket, Object: target }),
          [new this.sdk!.CopySourceOptions({ Bucket: this.bucket, Object: tempKey })],
        );
      }
    }
    await this.removeTemporary(tempKey);
  }

  /** Removes a temporary object and any unfinished multipart upload of it. Never throws. */
  async removeTemporary(tempKey: string): Promise<void> {
    const s3 = await this.connected();
    await s3.removeObject(this.bucket, tempKey).catch(() => undefined);
    await s3.removeIncompleteUpload(this.bucket, tempKey).catch(() => undefined);
  }

  blobKey(digest: string): string {
    if (!SHA256_HEX.test(digest)) throw cfError('CF_ERR_STORAGE_BACKEND', `invalid blob digest ${JSON.stringify(digest)}`, { op: 'storage.path' });
    return `${this.prefix}sha256/${digest.slice(0, 2)}/${digest}`;
  }

  backendError(op: string, err: unknown, what?: string) {
    const detail = `${s3Code(err) ? `${s3Code(err)}: ` : ''}${(err as Error).message}`;
    return cfError('CF_ERR_STORAGE_BACKEND', `s3 storage ${op} failed: ${what ? `${what}: ` : ''}${detail}`, { op: `storage.s3.${op}`, cause: err });
  }

  /**
   * Temporaries of writers that died (crash, SIGKILL). Only old ones: other replicas sharing the
   * bucket may be writing theirs right now.
   */
  private async sweepTemporaries(): Promise<void> {
    const s3 = await this.connected();
    const cutoff = (this.options.clock ?? systemClock).now() - this.options.staleTemporaryAfter;
    const stale: string[] = [];
    try {
      for await (const item of s3.listObjectsV2(this.bucket, `${this.prefix}tmp/`, true) as AsyncIterable<Minio.BucketItem>) {
        if (item.name && item.lastModified && item.lastModified.getTime() < cutoff) stale.push(item.name);
      }
    } catch (err) {
      throw this.backendError('init', err, `cannot list bucket ${this.bucket}`);
    }
    for (const key of stale) await this.removeTemporary(key);
  }

  private readError(op: string, digest: string, err: unknown) {
    if (isNotFound(err)) return cfError('CF_ERR_STORAGE_NOT_FOUND', `blob ${digest} not in storage`, { op: `storage.${op}` });
    return this.backendError(op, err);
  }

  private describeEndpoint(): string {
    return `${this.options.useSSL ? 'https' : 'http'}://${this.options.endPoint}${this.options.port ? `:${this.options.port}` : ''}`;
  }
}

class S3Writer implements BlobWriter {
  private done = false;

  constructor(private readonly storage: S3Storage, private readonly upload: Upload, private readonly tempKey: string) {}

  get bytesWritten(): number {
    return this.upload.bytesWritten;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.done) throw this.storage.backendError('write', new Error('writer already finished'));
    try {
      await this.upload.write(chunk);
    } catch (err) {
      throw this.storage.backendError('write', err);
    }
  }

  async commit(expected: BlobInfo): Promise<BlobInfo> {
    if (this.done) throw this.storage.backendError('commit', new Error('writer already finished'));
    if (!SHA256_HEX.test(expected.digest)) { await this.abort(); throw this.storage.backendError('commit', new Error(`invalid digest ${expected.digest}`)); }
    if (expected.size !== this.bytesWritten) {
      await this.abort();
      throw cfError('CF_ERR_STORAGE_VERIFY', `wrote ${this.bytesWritten} bytes, expected ${expected.size}`, { op: 'storage.commit' });
    }
    this.done = true;
    try {
      await this.upload.finish();
      const stored = await this.storage.client.statObject(this.storage.bucket, this.tempKey);
      if (stored.size !== expected.size) {
        throw cfError('CF_ERR_STORAGE_VERIFY', `s3 holds ${stored.size} bytes of the upload, expected ${expected.size}`, { op: 'storage.commit' });
      }
      await this.storage.publish(this.tempKey, expected);
    } catch (err) {
      await this.storage.removeTemporary(this.tempKey);
      if ((err as { code?: string }).code === 'CF_ERR_STORAGE_VERIFY') throw err;
      throw this.storage.backendError('commit', err);
    }
    return { digest: expected.digest, size: expected.size };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.upload.cancel();
    await this.storage.removeTemporary(this.tempKey);
  }
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, ...) minio attaches, if any. */
function s3Code(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}
