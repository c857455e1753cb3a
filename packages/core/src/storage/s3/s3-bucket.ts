import { randomUUID } from 'node:crypto';
import type * as Minio from 'minio';
import { systemClock, type Clock } from '../../util/clock.js';
import { backendFailure, checkedDigest } from '../blob-errors.js';

/** Options of the S3 storage (the `storage.s3` config block). */
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
   * lags behind (see `StagedUpload`); absent = writes wait for the upload.
   */
  readonly staging?: string;
  /** Serve hits by redirecting clients to presigned URLs valid this long (ms); absent = stream them. */
  readonly redirectExpiry?: number;
  /** What "older than `staleTemporaryAfter`" is measured against; default the wall clock. */
  readonly clock?: Clock;
}

/**
 * The bucket and key space one S3 storage works in: the lazily loaded client, where blobs and
 * temporaries live, the bucket's preparation and the sweep of temporaries, and how S3 failures
 * read as coded errors. Shared by the storage's reads and its writers.
 */
export class S3Bucket {
  readonly name: string;
  private sdkModule?: typeof Minio;
  private connecting?: Promise<Minio.Client>;
  private connectedClient?: Minio.Client;

  constructor(readonly options: S3StorageOptions) {
    this.name = options.bucket;
  }

  /** The minio client, once any call has loaded it. */
  get client(): Minio.Client {
    if (!this.connectedClient) throw new Error('S3Storage: call init() first');
    return this.connectedClient;
  }

  /** The minio module, once any call has loaded it. */
  get sdk(): typeof Minio {
    if (!this.sdkModule) throw new Error('S3Storage: call init() first');
    return this.sdkModule;
  }

  /**
   * The minio client, created on first use. NOTE: loaded lazily because minio alone adds ~40 MB
   * to a process's memory, which installations on the filesystem backend should not pay.
   */
  connected(): Promise<Minio.Client> {
    this.connecting ??= import('minio').then((sdk) => {
      this.sdkModule = sdk;
      const o = this.options;
      this.connectedClient = new sdk.Client({
        endPoint: o.endPoint, port: o.port, useSSL: o.useSSL, region: o.region, accessKey: o.accessKey, secretKey: o.secretKey,
        sessionToken: o.sessionToken, pathStyle: o.pathStyle, partSize: o.partSize,
      });
      return this.connectedClient;
    });
    return this.connecting;
  }

  /** Where the blob `digest` lives. */
  blobKey(digest: string): string {
    const name = checkedDigest(digest);
    return `${this.blobPrefix}${name.slice(0, 2)}/${name}`;
  }

  /** Every blob key starts so. */
  get blobPrefix(): string {
    return `${this.options.prefix}sha256/`;
  }

  /** A fresh temporary key (`name` defaults to a random one). */
  temporaryKey(name: string = randomUUID()): string {
    return `${this.options.prefix}tmp/${name}`;
  }

  /** Creates the bucket when it is missing, then sweeps temporaries of writers that died. */
  async prepare(): Promise<void> {
    const s3 = await this.connected();
    let exists: boolean;
    try {
      exists = await s3.bucketExists(this.name);
    } catch (err) {
      throw this.failure('init', err, `cannot reach bucket ${this.name} at ${this.describeEndpoint()}`);
    }
    if (!exists) {
      try {
        await s3.makeBucket(this.name, this.options.region);
      } catch (err) {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(s3Code(err) ?? '')) {
          throw this.failure('init', err, `bucket ${this.name} does not exist at ${this.describeEndpoint()} and could not be created (create it, or give the credentials s3:CreateBucket)`);
        }
      }
    }
    await this.sweepTemporaries();
  }

  /** Removes a temporary object and any unfinished multipart upload of it. Never throws. */
  async removeTemporary(tempKey: string): Promise<void> {
    const s3 = await this.connected();
    await s3.removeObject(this.name, tempKey).catch(() => undefined);
    await s3.removeIncompleteUpload(this.name, tempKey).catch(() => undefined);
  }

  /** The coded error of a failed S3 call, naming S3's own error code when it sent one. */
  failure(op: string, err: unknown, what?: string) {
    return backendFailure('s3', op, err, what, `${s3Code(err) ? `${s3Code(err)}: ` : ''}${(err as Error).message}`);
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
      for await (const item of s3.listObjectsV2(this.name, this.temporaryKey(''), true) as AsyncIterable<Minio.BucketItem>) {
        if (item.name && item.lastModified && item.lastModified.getTime() < cutoff) stale.push(item.name);
      }
    } catch (err) {
      throw this.failure('init', err, `cannot list bucket ${this.name}`);
    }
    for (const key of stale) await this.removeTemporary(key);
  }

  private describeEndpoint(): string {
    return `${this.options.useSSL ? 'https' : 'http'}://${this.options.endPoint}${this.options.port ? `:${this.options.port}` : ''}`;
  }
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, ...) minio attaches, if any. */
export function s3Code(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when S3 answered that the object is not there. */
export function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}
