import { createHash, timingSafeEqual } from 'node:crypto';

/** Where another replica streams a key's fill from: the winner's internal address and the fill's id. */
export interface FillSource {
  readonly url: string;
  readonly id: string;
}

/** The hot-cache key of a key's fill source, beside the key's lock. */
export function sourceKey(key: string): string {
  return `fill-source:${key}`;
}

/** The internal route a fill is streamed at. */
export const FILLS_PATH = '/-/internal/fills/';

/** The header the shared secret travels in. */
export const SECRET_HEADER = 'x-cacheforge-cluster-secret';

/** Compares a presented secret in constant time (hashes first: equal lengths, nothing learnt from timing). */
export function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}
