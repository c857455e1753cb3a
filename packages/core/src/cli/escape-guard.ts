import { stackFrames, type Logger } from '../util/logger.js';
import { redactText } from '../util/redact.js';

/**
 * The last line of defence of a running server: an error that escapes every request's handling
 * (an 'error' event nobody listens to, a rejected promise nobody awaits) is logged once and
 * counted, and the process keeps serving the downloads in progress. Node's default would end the
 * process, and every client with it, for the fault of one upstream response.
 *
 * Installed only by `cacheforge start`, never by the server class itself: tests that run the
 * server in-process keep mocha's own handler, which fails the test an escape happened in, and the
 * tests that run `cacheforge start` assert the counter is zero. An escape is always a bug.
 */
export function installEscapeGuard(log: Logger, count: () => void): () => void {
  const onEscape = (kind: string) => (err: unknown) => {
    count();
    const e = err as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown } | undefined;
    // Only the error's own fields, scrubbed: never the error object, whose properties (a got
    // request's options, headers and URLs) carry credentials.
    log.error({
      kind, code: typeof e?.code === 'string' ? e.code : undefined, errorName: typeof e?.name === 'string' ? e.name : undefined,
      reason: redactText(typeof e?.message === 'string' ? e.message : String(err)), stack: stackFrames(e?.stack),
    }, 'an error escaped a request; the process keeps serving (this is a bug: please report it)');
  };
  const uncaught = onEscape('uncaughtException');
  const rejected = onEscape('unhandledRejection');
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', rejected);
  return () => {
    process.off('uncaughtException', uncaught);
    process.off('unhandledRejection', rejected);
  };
}
