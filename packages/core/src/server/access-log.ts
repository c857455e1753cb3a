import type { Context, Next } from 'koa';
import type { Logger } from '../util/logger.js';
import type { Metrics } from './metrics.js';

/**
 * One JSON log line and one metrics sample per request, written when the response is finished
 * or the connection is gone: remote, path, status, cache status, bytes, milliseconds.
 */
export function accessLog(log: Logger, metrics: Metrics, enabled: boolean) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const socket = ctx.req.socket;
    const before = socket.bytesWritten;
    const done = () => {
      ctx.res.off('finish', done);
      ctx.res.off('close', done);
      const remote = ctx.state.remote as string | undefined;
      const cache = (ctx.state.cacheStatus as string | undefined) ?? (ctx.response.get('x-cache-status') || '-');
      const complete = ctx.res.writableFinished;
      const length = Number(ctx.res.getHeader('content-length'));
      // Body bytes: the declared length when the response completed, else what left the socket.
      const bytes = ctx.method === 'HEAD' || ctx.status === 304 ? 0
        : complete && Number.isFinite(length) ? length : Math.max(0, socket.bytesWritten - before);
      if (remote) {
        metrics.requests.inc({ remote, cache, status: String(ctx.status) });
        metrics.bytesServed.inc({ remote }, bytes);
      }
      if (enabled) {
        log.info({
          method: ctx.method, remote, path: ctx.path, status: ctx.status, cache, bytes,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100, complete, code: ctx.state.errorCode,
        }, 'request');
      }
    };
    ctx.res.once('finish', done);
    ctx.res.once('close', done);
    await next();
  };
}
