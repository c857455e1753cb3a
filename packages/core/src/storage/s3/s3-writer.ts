import { cfError } from '../../errors/errors.js';
import type { WriteSteps } from '../guarded-writer.js';
import type { BlobInfo } from '../storage.js';
import { isNotFound, type S3Bucket } from './s3-bucket.js';
import type { S3Upload } from './s3-upload.js';

/** What a writer feeds: the upload itself, or a staged one in front of it. */
export type Upload = Pick<S3Upload, 'write' | 'finish' | 'cancel'>;

/** S3 refuses a single-request copy above 5 GiB; larger blobs are copied part by part. */
const MAX_SINGLE_COPY = 5 * 1024 ** 3;

/**
 * S3's write steps: bytes go up to a temporary object, which becomes visible under its digest
 * through a server-side copy once S3 confirms it holds every byte.
 */
export class S3WriteSteps implements WriteSteps {
  constructor(private readonly bucket: S3Bucket, private readonly upload: Upload, private readonly tempKey: string) {}

  write(chunk: Buffer): Promise<void> {
    return this.upload.write(chunk);
  }

  async publish(blob: BlobInfo): Promise<void> {
    await this.upload.finish();
    const stored = await this.bucket.client.statObject(this.bucket.name, this.tempKey);
    if (stored.size !== blob.size) {
      throw cfError('CF_ERR_STORAGE_VERIFY', `s3 holds ${stored.size} bytes of the upload, expected ${blob.size}`, { op: 'storage.commit' });
    }
    if (!await this.published(blob)) await this.copy(blob);
    await this.bucket.removeTemporary(this.tempKey);
  }

  async discard(): Promise<void> {
    await this.upload.cancel().catch(() => undefined);
    await this.bucket.removeTemporary(this.tempKey);
  }

  /** Same digest = same bytes: another writer (or replica) may have published them already. */
  private async published(blob: BlobInfo): Promise<boolean> {
    try {
      await this.bucket.client.statObject(this.bucket.name, this.bucket.blobKey(blob.digest));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async copy(blob: BlobInfo): Promise<void> {
    const s3 = this.bucket.client;
    const target = this.bucket.blobKey(blob.digest);
    if (blob.size <= MAX_SINGLE_COPY) {
      await s3.copyObject(this.bucket.name, target, `/${this.bucket.name}/${this.tempKey}`);
      return;
    }
    const sdk = this.bucket.sdk;
    await s3.composeObject(
      new sdk.CopyDestinationOptions({ Bucket: this.bucket.name, Object: target }),
      [new sdk.CopySourceOptions({ Bucket: this.bucket.name, Object: this.tempKey })],
    );
  }
}
