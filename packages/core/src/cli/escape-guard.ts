import type { Logger } from '../util/logger.js';

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
      reason: scrub(typeof e?.message === 'string' ? e.message : String(err)), stack: frames(e?.stack),
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

/** URL credentials and query values removed from free text. */
function scrub(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1')
    .replace(/(\?|&)([^=&\s#]+)=[^&\s#]*/g, '$1$2=…');
}

/** The stack's frames without its first line (the message, already given scrubbed). */
function frames(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  return stack.split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 12).map((l) => l.trim()).join('\n');
}
