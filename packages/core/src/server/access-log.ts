import type { Context, Next } from 'koa';
import type { Logger } from '../util/logger.js';
import type { Metrics } from './metrics.js';

/**
 * One JSON log line and one metrics sample per request, written when the response is finished
 * or the connection is gone: remote, path, status, cache status, bytes, milliseconds.
 */
export function accessLog(log: Logger, metrics: Metrics, enabled: boolean) {
  // NOTE: labelled children are cached: hashing label sets on every request costs more than the
  // rest of a small hit's bookkeeping.
  const requestCounters = new Map<string, { inc(): void }>();
  const byteCounters = new Map<string, { inc(n: number): void }>();
  const countRequest = (remote: string, cache: string, status: number) => {
    const key = `${remote}\u0000${cache}\u0000${status}`;
    let counter = requestCounters.get(key);
    if (!counter) requestCounters.set(key, counter = metrics.requests.labels({ remote, cache, status: String(status) }));
    counter.inc();
  };
  const countBytes = (remote: string, bytes: number) => {
    let counter = byteCounters.get(remote);
    if (!counter) byteCounters.set(remote, counter = metrics.bytesServed.labels({ remote }));
    counter.inc(bytes);
  };
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const socket = ctx.req.socket;
    const before = socket.bytesWritten;
    const done = (handedOver = false) => {
      const remote = ctx.state.remote as string | undefined;
      const cache = (ctx.state.cacheStatus as string | undefined) ?? (ctx.response.get('x-cache-status') || '-');
      const complete = handedOver || ctx.res.writableFinished;
      const length = Number(ctx.res.getHeader('content-length'));
      // Body bytes: the declared length when the response completed, else what left the socket.
      const bytes = ctx.method === 'HEAD' || ctx.status === 304 ? 0
        : complete && Number.isFinite(length) ? length : Math.max(0, socket.bytesWritten - before);
      if (remote) {
        countRequest(remote, cache, ctx.status);
        countBytes(remote, bytes);
      }
      if (enabled) {
        log.info({
          method: ctx.method, remote, path: ctx.path, status: ctx.status, cache, bytes,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100, complete, code: ctx.state.errorCode,
        }, 'request');
      }
    };
    try {
      await next();
    } finally {
      // A response already handed over whole (the hot path) is counted now; one still streaming
      // when it closes, finished or not ('close' always comes last).
      if (ctx.res.writableEnded && !ctx.res.destroyed) done(true);
      else ctx.res.once('close', () => done());
    }
  };
}
