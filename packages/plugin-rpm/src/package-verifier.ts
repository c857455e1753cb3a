import { createHash } from 'node:crypto';
import type { BodyVerifier, Expectation, FinishedBody } from '@cacheforge/core';

/** Reads `body` again to hash it with `algorithm` (a repository that lists sha1 or sha512). */
async function hashOf(body: FinishedBody, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  const step = 1024 * 1024;
  for (let position = 0; position < body.size; position += step) hash.update(await body.read(position, Math.min(step, body.size - position)));
  return hash.digest('hex');
}

/**
 * Checks a package against what its repository's primary index lists, found only once the body
 * is whole (so a hit, and a miss's download, never wait on the index). `lookup` resolves to
 * `undefined` for a package no primary lists: it is then kept on its length alone.
 */
export class PackageVerifier implements BodyVerifier {
  constructor(private readonly lookup: () => Promise<Expectation | undefined>) {}

  update(): void {
    // The core hashes every body with sha256 already; other algorithms re-read the finished body.
  }

  async finish(body: FinishedBody): Promise<void> {
    const expectation = await this.lookup();
    if (!expectation) return;
    if (expectation.size !== undefined && expectation.size !== body.size) {
      throw new Error(`the package is ${body.size} bytes; its primary index says ${expectation.size}`);
    }
    for (const digest of expectation.digests ?? []) {
      const actual = digest.algorithm === 'sha256' ? body.sha256 : await hashOf(body, digest.algorithm);
      if (actual !== digest.hex) throw new Error(`the package's ${digest.algorithm} is ${actual}; its primary index says ${digest.hex}`);
    }
  }
}
