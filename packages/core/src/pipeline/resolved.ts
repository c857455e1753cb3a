import { cfError, isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import type { CacheStatus } from '../contract/index.js';
import type { ArtifactId } from '../metadata/metadata.js';
import type { Fill } from './fill/fill.js';
import type { HotEntry } from './lookup/hot-index.js';

/** A key in a servable state: a stored copy, or a fill under way. */
export type Resolved = Stored | Filling;

/** A stored copy and how it came to be served. */
export interface Stored {
  readonly kind: 'stored';
  readonly entry: HotEntry;
  readonly status: CacheStatus;
}

/** An upstream body on its way into storage, which clients read as it arrives. */
export interface Filling {
  readonly kind: 'fill';
  readonly fill: Fill;
  readonly meta: UpstreamMeta;
  /** Settles once the body is committed and recorded (after a retry, the retry's), or has failed. */
  readonly recorded: Promise<HotEntry>;
  /** The copy this fill replaces (a revalidation that got a new body): served if the fill fails in time. */
  readonly stale?: HotEntry;
  /** Settles once the fill is over: with the fill that replaces it after a mismatch, or nothing. */
  readonly retry: Promise<Filling | undefined>;
  /** True once the fill failed for good (no retry follows): a caller arriving now starts anew. */
  over: boolean;
}

/** What is kept of the upstream response that filled an object. */
export interface UpstreamMeta {
  readonly contentType?: string;
  readonly headers: Record<string, string>;
  readonly etag?: string;
  readonly lastModified?: string;
}

/** The key of an artifact across the process (hot index, key locks, hot cache). */
export function flightKey(id: ArtifactId): string {
  return `${id.remote}\u0000${id.key}\u0000${id.variant}`;
}

/** A fill whose bytes are all in and verified is, for a client joining it now, a stored copy. */
export function fillStatus(fill: Fill): CacheStatus {
  return fill.state === 'verified' || fill.state === 'committed' ? 'HIT' : 'MISS';
}

/** The attempt a result stands for now: a fill that failed and was retried is its retry. */
export async function latest(resolved: Resolved): Promise<Resolved> {
  let current = resolved;
  while (current.kind === 'fill' && current.fill.state === 'failed') {
    const next = await current.retry.catch(() => undefined);
    if (!next) return current;
    current = next;
  }
  return current;
}

/** The error a client gets, marked with the cache status it answers under. */
export function withCacheStatus(err: unknown, status: CacheStatus): CacheForgeError {
  const coded = isCacheForgeError(err) ? err : cfError('CF_ERR_UPSTREAM_UNAVAILABLE', String(err), { cause: err });
  if (coded.headers?.['x-cache-status']) return coded;
  (coded as { headers?: Record<string, string> }).headers = { ...coded.headers, 'x-cache-status': status };
  return coded;
}

export function toUrl(url: URL | string): URL {
  return typeof url === 'string' ? new URL(url) : url;
}
