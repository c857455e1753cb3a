import type { Context, Next } from 'koa';
import { cfError, isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import { ERROR_CODES } from '../errors/codes.js';
import type { Logger } from '../util/logger.js';
import { redactText } from '../util/redact.js';
import type { ErrorBodyFormatter } from '../contract/error-body.js';
import { CACHE_STATUS_HEADER } from './send.js';

const READS = ['GET', 'HEAD'] as const;

/** The JSON body of every error response. */
export interface ErrorBody {
  errors: { code: string; message: string; detail?: Record<string, unknown> }[];
}

/**
 * The one place an error becomes an HTTP status and body: the code's status from the table, a
 * JSON body `{errors:[{code,message,detail}]}`, the error's own headers (Retry-After,
 * X-Cache-Status). Internal faults are logged and shown only as their code. When a body was
 * already streaming, the connection is destroyed so the client sees a truncated download, never
 * a clean end.
 */
export function errorMiddleware(log: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (raw) {
      const err: CacheForgeError = isCacheForgeError(raw)
        ? raw
        : cfError('CF_ERR_INTERNAL', (raw as Error)?.message ?? String(raw), { cause: raw });
      const spec = ERROR_CODES[err.code];
      ctx.state.errorCode = err.code;
      const fields = { code: err.code, remote: err.remote ?? ctx.state.remote, path: ctx.path, reason: redactText(err.message) };
      if (spec.level === 'error') log.error({ ...fields, err: raw }, 'request failed');
      else log[spec.level](fields, 'request refused');
      if (ctx.headerSent || !ctx.writable) {
        ctx.req.socket.destroy();
        return;
      }
      ctx.respond = true;
      ctx.status = spec.status;
      // Errors carry their headers lowercase (the pipeline reads them back); the cache status goes out as on every response.
      for (const [name, value] of Object.entries(err.headers ?? {})) ctx.set(name === 'x-cache-status' ? CACHE_STATUS_HEADER : name, value);
      // A 405 says what is allowed: the remote's methods (set by dispatch), else only reads; never
      // the method just refused (a format may declare PUT only to refuse it with its own reason).
      // The challenge of the format whose mount routed the request (set by the mount before the check).
      if (spec.status === 401 && typeof ctx.state.authChallenge === 'string') ctx.set('WWW-Authenticate', ctx.state.authChallenge);
      if (spec.status === 405) ctx.set('Allow', ((ctx.state.allowedMethods as readonly string[] | undefined) ?? READS).filter((m) => m !== ctx.method).join(', '));
      // NOTE: a message not made by us (a plugin's, a library's) may name a URL with its credentials.
      const message = spec.expose ? redactText(err.message) : spec.title;
      const detail = spec.expose ? err.detail : undefined;
      // A format that speaks its own error shape (set by dispatch for that format's routes).
      const format = ctx.state.errorBody as ErrorBodyFormatter | undefined;
      if (format) {
        const formatted = format({ code: err.code, status: spec.status, message, detail }, { method: ctx.method, path: ctx.path });
        for (const [name, value] of Object.entries(formatted.headers ?? {})) ctx.set(name, value);
        ctx.body = formatted.body;
        return;
      }
      const body: ErrorBody = { errors: [{ code: err.code, message, ...(detail ? { detail } : {}) }] };
      ctx.body = body;
    }
  };
}
