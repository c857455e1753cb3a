import { ERROR_CODES, type ErrorCode, type ErrorSpec } from './codes.js';

/** Context every error may carry: which operation, which remote and artifact. */
export interface ErrorContext {
  /** Logical operation, e.g. `pipeline.fill`. */
  op?: string;
  remote?: string;
  path?: string;
  /** Extra fields safe to show to clients (after `expose`). */
  detail?: Record<string, unknown>;
  /** Headers the response must carry (e.g. `retry-after`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * A Cache Forge error: a code from the table plus context. Recognise it by `code` (see
 * {@link isCacheForgeError}), never by `instanceof`: a plugin may load its own copy of core.
 */
export class CacheForgeError extends Error {
  readonly code: ErrorCode;
  readonly op?: string;
  readonly remote?: string;
  readonly path?: string;
  readonly detail?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'CacheForgeError';
    this.code = code;
    this.op = context.op;
    this.remote = context.remote;
    this.path = context.path;
    this.detail = context.detail;
    this.headers = context.headers;
  }

  /** The table entry of this error's code. */
  get spec(): ErrorSpec {
    return ERROR_CODES[this.code];
  }
}

/** Shorthand for `new CacheForgeError(...)`. */
export function cfError(code: ErrorCode, message: string, context?: ErrorContext): CacheForgeError {
  return new CacheForgeError(code, message, context);
}

/** True when `err` carries a Cache Forge code, whichever copy of core created it. */
export function isCacheForgeError(err: unknown): err is CacheForgeError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    && Object.hasOwn(ERROR_CODES, (err as { code: string }).code) && err instanceof Error;
}

/** True when `err` is a Cache Forge error with one of `codes`. */
export function hasCode(err: unknown, ...codes: ErrorCode[]): err is CacheForgeError {
  return isCacheForgeError(err) && codes.includes(err.code);
}
