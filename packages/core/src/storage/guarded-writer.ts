import { cfError, hasCode } from '../errors/errors.js';
import { SHA256_HEX, type BlobInfo, type BlobWriter, type PartialReader } from './storage.js';

/**
 * The raw steps of one backend's two-phase write. {@link GuardedWriter} calls them in a valid
 * order only, so a backend implements the steps and none of the rules.
 */
export interface WriteSteps {
  /** Appends `chunk` at byte `position` (the bytes accepted before it). */
  write(chunk: Buffer, position: number): Promise<void>;
  /** A reader over the bytes written so far, for backends that can read before commit. */
  openPartial?(): Promise<PartialReader>;
  /**
   * Makes the bytes visible under `blob.digest`; called once, after the size check. May throw
   * `CF_ERR_STORAGE_VERIFY` when the backend finds fewer bytes than were written.
   */
  publish(blob: BlobInfo): Promise<void>;
  /** Drops everything written; called once, on abort or after a failed publish. Never throws. */
  discard(): Promise<void>;
}

/** Turns a backend's failure of `op` into its coded error. */
export type BackendFailure = (op: string, err: unknown) => Error;

/**
 * The rules of {@link BlobWriter} that hold for every backend: no write after the writer
 * finished, exactly one of commit or abort takes effect, a malformed digest or a size other
 * than the bytes accepted aborts the write, a failed commit leaves nothing behind, and every
 * backend failure comes out as that backend's coded error.
 */
export class GuardedWriter implements BlobWriter {
  bytesWritten = 0;
  readonly openPartial?: () => Promise<PartialReader>;
  private done = false;

  constructor(private readonly steps: WriteSteps, private readonly fail: BackendFailure) {
    const openPartial = steps.openPartial?.bind(steps);
    if (openPartial) this.openPartial = () => openPartial().catch((err: unknown) => { throw this.fail('openPartial', err); });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.done) throw this.fail('write', new Error('writer already finished'));
    try {
      await this.steps.write(chunk, this.bytesWritten);
    } catch (err) {
      throw this.fail('write', err);
    }
    this.bytesWritten += chunk.length;
  }

  async commit(expected: BlobInfo): Promise<BlobInfo> {
    if (this.done) throw this.fail('commit', new Error('writer already finished'));
    if (!SHA256_HEX.test(expected.digest)) {
      await this.abort();
      throw this.fail('commit', new Error(`invalid digest ${expected.digest}`));
    }
    if (expected.size !== this.bytesWritten) {
      await this.abort();
      throw cfError('CF_ERR_STORAGE_VERIFY', `wrote ${this.bytesWritten} bytes, expected ${expected.size}`, { op: 'storage.commit' });
    }
    this.done = true;
    try {
      await this.steps.publish(expected);
    } catch (err) {
      await this.steps.discard();
      throw hasCode(err, 'CF_ERR_STORAGE_VERIFY') ? err : this.fail('commit', err);
    }
    return { digest: expected.digest, size: expected.size };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.steps.discard();
  }
}
