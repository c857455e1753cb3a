import { z } from 'zod';
import { parseDuration, parseSize } from '../util/units.js';

/**
 * The value types config keys are made of: durations, sizes, regexes and base URLs, each parsed
 * to what the code uses and failing with a message that says what was expected.
 */

/** A duration (`10m`, `30s`, `1h30m`; a bare number is seconds), parsed to milliseconds. */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 10m, 1h or 7d, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});

/** The longest delay a Node.js timer takes (~24.8 days); a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration that becomes a timer (timeouts, intervals). NOTE: capped, because Node.js turns a
 * longer delay into 1 ms, so `shutdownTimeout: 30d` would abort downloads at once.
 */
export const timerDuration = duration.refine((ms) => ms <= MAX_TIMER_MS, {
  message: `expected a duration of at most 24d (a timer cannot wait longer), e.g. 30s, 10m or 1h`,
});

/** A byte size (`512`, `64KiB`, `10MB`; a bare number is bytes). */
export const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 512, 64KiB or 2GiB, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return bytes;
});

/** A regular expression source, compiled (a bad one is a config error naming its key). */
export const regex = z.string().transform((source, ctx) => {
  try {
    return new RegExp(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
    return z.NEVER;
  }
});

/** An absolute http(s) URL, normalized to end in `/` (a base that paths are resolved under). */
export const baseUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected an absolute http(s) URL, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `expected an http or https URL, got ${url.protocol}` });
    return z.NEVER;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'a base URL takes no query string or fragment' });
    return z.NEVER;
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
});
