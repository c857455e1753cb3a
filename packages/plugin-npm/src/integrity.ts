import type { ExpectedDigest } from '@cacheforge/core';

/** The `dist` block of one version in a package document (the fields we use). */
export interface Dist {
  readonly tarball?: string;
  readonly integrity?: string;
  readonly shasum?: string;
}

const PREFERENCE = ['sha512', 'sha256', 'sha1'] as const;

/**
 * The strongest digest a version's `dist` promises: `integrity` (Subresource Integrity, possibly
 * several space-separated hashes, sha512 in today's registry), else the legacy sha1 `shasum`.
 */
export function expectedDigest(dist: Dist): ExpectedDigest | undefined {
  const byAlgorithm = new Map<string, string>();
  for (const token of (dist.integrity ?? '').trim().split(/\s+/)) {
    const match = /^(sha512|sha256|sha1)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
    if (match && !byAlgorithm.has(match[1]!)) byAlgorithm.set(match[1]!, Buffer.from(match[2]!, 'base64').toString('hex'));
  }
  for (const algorithm of PREFERENCE) {
    const hex = byAlgorithm.get(algorithm);
    if (hex) return { algorithm, hex };
  }
  if (dist.shasum && /^[0-9a-fA-F]{40}$/.test(dist.shasum)) return { algorithm: 'sha1', hex: dist.shasum.toLowerCase() };
  return undefined;
}
