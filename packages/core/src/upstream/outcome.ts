import type { IncomingHttpHeaders } from 'node:http';
import { cfError, isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import { formatDuration } from '../util/units.js';
import { redact } from '../util/redact.js';
import type { UpstreamCall } from './response.js';

/**
 * The one place an upstream outcome becomes a Cache Forge error: a status the upstream answered,
 * a connection or body failure, a wait for headers that ran out, a redirect or host the remote
 * may not follow, an offline remote. Messages name the request with its URL redacted.
 */

/** `GET https://host/path?query=…`: a request as messages name it (credentials and query values redacted). */
export function describeCall(call: Pick<UpstreamCall, 'method' | 'url'>): string {
  return `${call.method} ${redact(call.url)}`;
}

/**
 * A non-success status: 404/410 are "not found", 429 keeps its Retry-After, 508 is a loop, 5xx is
 * "unavailable", and any other refusal (401, 403, 400...) is the upstream refusing us, which the
 * client cannot fix: a 502 that says so.
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

/**
 * A failure of the connection (before the headers) or of the body (after them): a timeout, a body
 * that ended early (so the pipeline tells a truncated upstream from a local fault), or an
 * upstream that could not be reached. A coded error passes through.
 */
export function transportError(err: unknown, call: UpstreamCall, remote: string, afterHeaders = false): CacheForgeError {
  if (isCacheForgeError(err)) return err;
  const e = err as { code?: string; name?: string; message?: string; event?: string };
  const where = describeCall(call);
  const context = { remote, op: afterHeaders ? 'upstream.body' : 'upstream.request', cause: err };
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') {
    return cfError('CF_ERR_UPSTREAM_TIMEOUT', `${where} timed out (${e.event ?? 'timeout'})`, context);
  }
  if (afterHeaders) {
    return cfError('CF_ERR_UPSTREAM_TRUNCATED', `${where}: body ended early (${e.code ?? e.message})`, context);
  }
  return cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `${where} failed: ${e.code ?? ''} ${e.message ?? ''}`.trim(), context);
}

/** The whole wait for headers (`firstByteTimeout`) ran out, retries included. */
export function firstByteTimedOut(call: UpstreamCall, remote: string, budget: number, attempts: number): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_TIMEOUT',
    `no response from ${call.url.host} within ${formatDuration(budget)} after ${attempts} ${plural(attempts)} (${describeCall(call)})`,
    { remote, op: 'upstream.request', detail: { attempts } });
}

/** Every attempt ran out its own `responseTimeout` before the whole wait did: say so, with the count. */
export function eachAttemptTimedOut(cause: CacheForgeError, call: UpstreamCall, remote: string, responseTimeout: number, attempts: number): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_TIMEOUT',
    `no response from ${call.url.host} after ${attempts} ${plural(attempts)} of ${formatDuration(responseTimeout)} each (${describeCall(call)})`,
    { remote, op: 'upstream.request', cause, detail: { attempts } });
}

/** A 3xx the client did not follow. `location` is already redacted: it may carry a presigned query. */
export function redirectRefused(call: UpstreamCall, remote: string, location: string, why: string): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_REDIRECT', `upstream redirected ${describeCall(call)} to ${location}, which remote ${remote} may not contact: ${why}`,
    { remote, op: 'upstream.redirect', detail: { location } });
}

/** A URL the remote's origin policy refuses, asked for by its plugin or a token challenge. */
export function hostRefused(url: URL, remote: string, refusal: string): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_REDIRECT', `remote ${remote} may not contact ${redact(url)}: ${refusal}`, { remote, op: 'upstream.request' });
}

/** Any request of a remote configured `offline`. */
export function remoteOffline(call: UpstreamCall, remote: string): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_OFFLINE', `remote ${remote} is offline: only stored artifacts are served (${describeCall(call)} is not)`,
    { remote, op: 'upstream.request' });
}

/** An auth round trip (a token response) whose body is larger than any token needs. */
export function authBodyTooLarge(url: URL, remote: string, max: number): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `auth response from ${url.host} exceeds ${max} bytes`, { remote, op: 'upstream.auth' });
}

function plural(attempts: number): string {
  return attempts === 1 ? 'attempt' : 'attempts';
}
