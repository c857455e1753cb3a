import { createHash, type Hash } from 'node:crypto';
import { cfError } from '../../errors/errors.js';
import { OffThreadSha256, SHA256_THREAD_BACKLOG } from './sha256-thread.js';
import type { BodyVerifier, Expectation, ExpectedDigest, FinishedBody } from '../../contract/index.js';

/** Hex lengths of each algorithm's digest, for checking what a sidecar or index gives. */
export const HEX_LENGTH = { md5: 32, sha1: 40, sha256: 64, sha512: 128 } as const;

/**
 * The checks of one body as it passes: always its sha256 (the content address), every digest the
 * expectation names, and the format's own verifier. `finish` throws the coded mismatch naming the
 * expected and the actual value, so the fill commits nothing.
 */
export class BodyCheck {
  /** The content address: hashed here, or on the sha256 thread for a large body. */
  private readonly sha256: Hash | OffThreadSha256;
  private readonly others: { readonly expected: ExpectedDigest; readonly hash: Hash }[] = [];
  private readonly verifier?: BodyVerifier;
  size = 0;

  /** `offThread`: hash the sha256 on the worker thread (worth it for bodies of megabytes). */
  constructor(private readonly expectation: Expectation, private readonly describe: string, offThread = false) {
    this.sha256 = offThread ? new OffThreadSha256() : createHash('sha256');
    for (const expected of expectation.digests ?? []) {
      if (expected.algorithm !== 'sha256') this.others.push({ expected, hash: createHash(expected.algorithm) });
    }
    this.verifier = expectation.verifier?.();
  }

  /** Takes the next bytes of the body, in order. */
  update(chunks: readonly Buffer[]): void {
    if (this.sha256 instanceof OffThreadSha256) this.sha256.update(chunks);
    for (const chunk of chunks) {
      if (!(this.sha256 instanceof OffThreadSha256)) this.sha256.update(chunk);
      for (const other of this.others) other.hash.update(chunk);
      this.verifier?.update(chunk);
      this.size += chunk.length;
    }
  }

  /** Resolves when the hashing thread has caught up enough to take more (at once when hashing here). */
  drained(): Promise<void> | undefined {
    return this.sha256 instanceof OffThreadSha256 && this.sha256.backlog > SHA256_THREAD_BACKLOG ? this.sha256.drained() : undefined;
  }

  /** The body failed before `finish`: nothing more will come. */
  abandon(): void {
    if (this.sha256 instanceof OffThreadSha256) this.sha256.drop();
  }

  /** The sha256 of the body once every check passed. */
  async finish(read: FinishedBody['read']): Promise<string> {
    const sha256 = this.sha256 instanceof OffThreadSha256 ? await this.sha256.digest() : this.sha256.digest('hex');
    if (this.expectation.size !== undefined && this.size !== this.expectation.size) {
      throw mismatch(`${this.describe}: ${this.size} bytes, the index lists ${this.expectation.size}`);
    }
    for (const expected of this.expectation.digests ?? []) {
      const actual = expected.algorithm === 'sha256' ? sha256 : this.others.find((o) => o.expected === expected)!.hash.digest('hex');
      if (actual !== expected.hex.toLowerCase()) {
        throw mismatch(`${this.describe}: ${expected.algorithm} is ${actual}, expected ${expected.hex.toLowerCase()}`);
      }
    }
    if (this.verifier) {
      try {
        await this.verifier.finish({ size: this.size, sha256, read });
      } catch (err) {
        throw mismatch(`${this.describe}: ${(err as Error)?.message ?? String(err)}`, err);
      }
    }
    return sha256;
  }
}

function mismatch(message: string, cause?: unknown): Error {
  return cfError('CF_ERR_UPSTREAM_DIGEST_MISMATCH', message, cause === undefined ? undefined : { cause });
}
