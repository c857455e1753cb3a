import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { redactText } from './redact.js';

/** The structured (JSON lines) logger every module and plugin gets. */
export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'child' | 'level'>;

/** Log levels a config may name. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** What an error becomes in a log line. */
export interface LoggedError {
  readonly type: string;
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
}

/**
 * An error as a log line may show it: its type, code, redacted message and stack frames, nothing
 * else. NOTE: pino's own serializer prints every enumerable property, and a got error carries its
 * `options` (headers with `authorization`, the configured `x-api-key`, URLs with credentials),
 * `request`, `response` and `cause`: one logged error would print every secret of its remote.
 */
export function serializeError(err: unknown): LoggedError {
  if (typeof err !== 'object' || err === null) return { type: typeof err, message: redactText(String(err)) };
  // pino may run a serializer over its own output again (with `redact` set): keep it as it is.
  if (serialized.has(err)) return err as LoggedError;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
  const type = typeof e.name === 'string' ? e.name : (err as object).constructor?.name ?? 'Object';
  const frames = stackFrames(e.stack);
  const out: LoggedError = {
    type,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    message: redactText(typeof e.message === 'string' ? e.message : '(no message)'),
    ...(frames ? { stack: frames } : {}),
  };
  serialized.add(out);
  return out;
}

const serialized = new WeakSet<object>();

/** A stack's `at` lines without its first line (the message, which is given redacted). */
export function stackFrames(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack.split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 12).map((l) => redactText(l.trim()));
  return frames.length ? frames.join('\n') : undefined;
}

/**
 * Creates the process logger: JSON lines on stdout (or `destination`), secrets redacted by key,
 * errors by `serializeError`, and the URLs in every top-level text field and message scrubbed of
 * credentials and query values (a library's message may quote a URL we never built).
 */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'cacheforge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError, error: serializeError, cause: serializeError },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => {
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(object)) {
          out[key] = typeof value === 'string' ? redactText(value) : value instanceof Error ? serializeError(value) : value;
        }
        return out;
      },
    },
    hooks: {
      logMethod(args, method) {
        // The message (a string argument after or instead of the object) goes through the same scrub.
        const scrubbed = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
    redact: {
      paths: ['*.authorization', '*.password', '*.token', '*.secretKey', '*.secretAccessKey', '*.cookie', 'headers.authorization', 'headers.cookie', 'headers["x-api-key"]'],
      censor: '[secret]',
    },
  }, (destination ?? pino.destination({ dest: 1, sync: false })) as pino.DestinationStream);
}
