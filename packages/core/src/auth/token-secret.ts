import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of tokens made here, so a secret scanner (and a person) recognizes one. */
export const TOKEN_PREFIX = 'cf_';

/** A new token value: 32 random bytes, base64url. */
export function newTokenValue(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** A new token id (not secret: it names the token in lists and URLs). */
export function newTokenId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * What is stored of a token. NOTE: a plain sha256 suffices (no slow hash): the value is 256 random
 * bits, so there is nothing to brute-force, and a lookup stays one indexed query.
 */
export function tokenHash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
