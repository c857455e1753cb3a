import { createHash, type Hash } from 'node:crypto';
import { cfError } from '../../errors/errors.js';
import type { BodyVerifier, Expectation, ExpectedDigest, FinishedBody } from '../../contract/index.js';

/** Hex lengths of each algorithm's digest, for checking what a sidecar or index gives. */
export const HEX_LENGTH = { md5: 32, sha1: 40, sha256: 64, sha512: 128 } as const;

/**
 * The checks of one body as it passes: always its sha256 (the content address), every digest the
 * expectation names, and the format's own verifier. `finish` throws the coded mismatch naming the
 * expected and the actual value, so the fill commits nothing.
 */
export class BodyCheck {
  private readonly sha256: Hash = createHash('sha256');
  private readonly others: { readonly expected: ExpectedDigest; readonly hash: Hash }[] = [];
  private readonly verifier?: BodyVerifier;
  size = 0;

  constructor(private readonly expectation: Expectation, private readonly describe: string) {
    for (const expected of expectation.digests ?? []) {
      if (expected.algorithm !== 'sha256') this.others.push({ expected, hash: createHash(expected.algorithm) });
    }
    this.verifier = expectation.verifier?.();
  }

  update(chunk: Buffer): void {
    this.sha256.update(chunk);
    for (const other of this.others) other.hash.update(chunk);
    this.verifier?.update(chunk);
    this.size += chunk.length;
  }

  /** The sha256 of the body once every check passed. */
  async finish(read: FinishedBody['read']): Promise<string> {
    const sha256 = this.sha256.digest('hex');
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
