import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** One request to an upstream. */
export interface UpstreamCall {
  readonly url: URL;
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly headers?: Readonly<Record<string, string>>;
  /** A request body, streamed once: a call with a body is never retried. */
  readonly body?: Readable;
  /** Aborts the request and its body. */
  readonly signal?: AbortSignal;
}

/** An upstream response whose headers have arrived; the body streams on. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** The body as raw bytes (no content decoding). Errors are coded (truncated, timeout). */
  readonly body: Readable;
}

/** Bodies up to this size are read to their end when unwanted, so the connection can be reused. */
const DRAIN_MAX = 64 * 1024;

/**
 * Gets rid of a body nobody will read (an error status, a 304, a retried attempt, a HEAD): a small
 * one is drained so its keep-alive connection goes back to the pool, anything larger or of unknown
 * length is destroyed. Its errors are the client's own business (the body always has a listener).
 */
export function discardBody(response: UpstreamResponse): void {
  const length = Number(response.headers['content-length'] ?? NaN);
  if (Number.isFinite(length) && length <= DRAIN_MAX) response.body.resume();
  else response.body.destroy();
}

/** A Location resolved against the URL that sent it, or undefined when it is no URL. */
export function resolveLocation(location: string, base: string): URL | undefined {
  try {
    // got reads Location as latin1 bytes of UTF-8, as browsers do.
    return new URL(Buffer.from(location, 'binary').toString(), base);
  } catch {
    return undefined;
  }
}
