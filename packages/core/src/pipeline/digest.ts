import { createHash, type Hash } from 'node:crypto';
import type { ExpectedDigest } from '../contract/index.js';

/**
 * Hashes bytes as they pass: always sha256 (the content address), plus the algorithm a format
 * promises a digest in (npm's sha512, an old sha1) when that differs.
 */
export class DigestTracker {
  private readonly sha256: Hash = createHash('sha256');
  private readonly other?: Hash;
  size = 0;

  constructor(private readonly expected?: ExpectedDigest) {
    if (expected && expected.algorithm !== 'sha256') this.other = createHash(expected.algorithm);
  }

  update(chunk: Buffer): void {
    this.sha256.update(chunk);
    this.other?.update(chunk);
    this.size += chunk.length;
  }

  /** Finishes hashing; returns the sha256 and whether the expected digest (if any) matched. */
  finish(): { sha256: string; matches: boolean; actual?: string } {
    const sha256 = this.sha256.digest('hex');
    if (!this.expected) return { sha256, matches: true };
    const actual = this.other ? this.other.digest('hex') : sha256;
    return { sha256, matches: actual === this.expected.hex.toLowerCase(), actual };
  }
}
