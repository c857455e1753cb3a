import type { IncomingHttpHeaders } from 'node:http';
import { cfError, type CacheForgeError } from '../errors/errors.js';

/**
 * The one place an upstream's non-success status becomes a Cache Forge error: 404/410 are "not
 * found", 429 keeps its Retry-After, 5xx is "unavailable", and any other refusal (401, 403, 400...)
 * is the upstream refusing us, which the client cannot fix: a 502 that says so.
 */
export function upstreamStatusError(status: number, headers: IncomingHttpHeaders, where: string, remote: string): CacheForgeError {
  const context = { remote, op: 'upstream.status', detail: { upstreamStatus: status } };
  if (status === 404 || status === 410) return cfError('CF_ERR_UPSTREAM_NOT_FOUND', `${where}: not found upstream (${status})`, context);
  if (status === 429) {
    const retryAfter = typeof headers['retry-after'] === 'string' ? headers['retry-after'] : undefined;
    return cfError('CF_ERR_UPSTREAM_RATE_LIMITED', `${where}: upstream rate limit (429)${retryAfter ? `, retry after ${retryAfter}` : ''}`,
      { ...context, headers: retryAfter ? { 'retry-after': retryAfter } : undefined });
  }
  // Another Cache Forge (or this one, through a detour) saw its own Via: pass the loop on as one.
  if (status === 508) return cfError('CF_ERR_LOOP_DETECTED', `${where}: upstream reports a request loop (508)`, context);
  if (status >= 500) return cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `${where}: upstream answered ${status}`, context);
  return cfError('CF_ERR_UPSTREAM_DENIED', `${where}: upstream refused with ${status}`, context);
}
