import http from 'node:http';
import { createHash } from 'node:crypto';

/** A response read whole (or as far as it got). */
export interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Header names and values as they came on the wire (names in their sent case). */
  rawHeaders: string[];
  body: Buffer;
  /** True when the body ended cleanly; false when the connection broke mid-body. */
  complete: boolean;
  error?: Error;
}

/**
 * A raw HTTP request with node:http (no client-side path normalization, so `..` and `%2e` reach
 * the server as written), read whole.
 */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; path?: string } = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request({
      host: target.hostname, port: target.port, method: options.method ?? 'GET',
      path: options.path ?? target.pathname + target.search, headers: options.headers, agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', (error) => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), complete: false, error }));
      res.on('aborted', () => undefined);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface HashedResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly sha256: string;
  readonly size: number;
  /** Whether the body ended cleanly (not cut short). */
  readonly complete: boolean;
  readonly firstByteAt?: number;
  readonly endAt: number;
}

/** Streams a response into a sha256 without keeping it, noting when the first byte came. */
export function hashGet(url: string): Promise<HashedResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      let firstByteAt: number | undefined;
      res.on('data', (c: Buffer) => { firstByteAt ??= Date.now(); hash.update(c); size += c.length; });
      const finish = () => resolve({ status: res.statusCode!, headers: res.headers, sha256: hash.digest('hex'), size, complete: res.complete, firstByteAt, endAt: Date.now() });
      res.on('end', finish);
      res.on('error', finish);
    });
    req.on('error', reject);
  });
}

/** The hex sha256 of `data`. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
