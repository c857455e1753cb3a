import type { Context, Next } from 'koa';
import type { Logger } from '../util/logger.js';
import type { Metrics, Tally } from '../metrics/metrics.js';

/**
 * One JSON log line and one metrics sample per request, written when the response is finished
 * or the connection is gone: remote, path, status, cache status, bytes, milliseconds.
 */
export function accessLog(log: Logger, metrics: Metrics, enabled: boolean) {
  // NOTE: each label set is a tally found through Maps of the label values: hashing label sets on
  // every request (what prom-client's inc does), or building a key string, costs more than the
  // rest of a small hit's bookkeeping.
  const requestTallies = new Map<string, Map<string, Map<number, Tally>>>();
  const byteTallies = new Map<string, Tally>();
  const countRequest = (remote: string, cache: string, status: number) => {
    let byCache = requestTallies.get(remote);
    if (!byCache) requestTallies.set(remote, byCache = new Map());
    let byStatus = byCache.get(cache);
    if (!byStatus) byCache.set(cache, byStatus = new Map());
    let tally = byStatus.get(status);
    if (!tally) byStatus.set(status, tally = metrics.requests.tally({ remote, cache, status: String(status) }));
    tally.add();
  };
  const countBytes = (remote: string, bytes: number) => {
    let tally = byteTallies.get(remote);
    if (!tally) byteTallies.set(remote, tally = metrics.bytesServed.tally({ remote }));
    tally.add(bytes);
  };
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = enabled ? process.hrtime.bigint() : 0n;
    const res = ctx.res;
    const socket = ctx.req.socket;
    const before = socket.bytesWritten;
    let counted = false;
    const done = () => {
      // Exactly once per response, whichever of the end of the middleware or 'close' comes first.
      if (counted) return;
      counted = true;
      // NOTE: koa's request and response objects, not the context's (megamorphic) delegating getters.
      const { request, response } = ctx;
      const remote = ctx.state.remote as string | undefined;
      const cache = (ctx.state.cacheStatus as string | undefined) ?? (response.get('x-cache-status') || '-');
      const complete = res.writableFinished;
      const status = response.status;
      const bytes = bodyBytes(ctx, status, complete, socket.bytesWritten - before);
      if (remote) {
        countRequest(remote, cache, status);
        countBytes(remote, bytes);
      }
      if (enabled) {
        log.info({
          method: request.method, remote, path: request.path, status, cache, bytes,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100, complete, code: ctx.state.errorCode,
        }, 'request');
      }
    };
    try {
      await next();
    } finally {
      // A response written whole before the middleware returns (the memory hot path, sendFile) is
      // counted now: its 'close' may already have fired (a client that closes the connection), and
      // a listener added after it would never run. One still streaming is counted when it closes,
      // finished or not ('close' always comes last).
      if (res.writableFinished || res.closed) done();
      else res.once('close', done);
    }
  };
}

/**
 * The body bytes a response sent: what the writer said it wrote (paths that write to the socket
 * themselves), the declared length of a completed response, else what left the socket minus the
 * header block (a cut stream, a chunked body with its framing).
 */
function bodyBytes(ctx: Context, status: number, complete: boolean, socketBytes: number): number {
  if (ctx.req.method === 'HEAD' || status === 304 || status === 204) return 0;
  const written = ctx.state.bodyBytes as number | undefined;
  if (complete && written !== undefined) return written;
  const length = Number(ctx.res.getHeader('content-length'));
  if (complete && Number.isFinite(length)) return length;
  // NOTE: `_header` is the serialized header block node:http keeps once headers are sent; it is
  // not typed, but it is the only way to tell header bytes from body bytes on the socket.
  const header = (ctx.res as unknown as { _header?: string | null })._header;
  return Math.max(0, socketBytes - (header ? Buffer.byteLength(header, 'latin1') : 0));
}
