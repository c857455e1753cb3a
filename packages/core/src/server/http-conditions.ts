/**
 * RFC 9110 conditional requests and ranges, as a cache serves them: If-None-Match (weak
 * comparison) before If-Modified-Since; byte ranges (`bytes=a-b`, `a-`, `-n`, up to
 * {@link MAX_RANGES} of them), honoured only when If-Range (if any) still matches. A malformed
 * Range header, or one with more ranges, is ignored (the whole body is sent), which the RFC allows.
 */

/** True when the client's copy is current (answer 304). */
export function notModified(headers: { 'if-none-match'?: string; 'if-modified-since'?: string }, etag: string | undefined, lastModified: Date | undefined): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    if (!etag) return false;
    if (inm.trim() === '*') return true;
    const ours = stripWeak(etag);
    return inm.split(',').some((tag) => stripWeak(tag.trim()) === ours);
  }
  const ims = headers['if-modified-since'];
  if (ims !== undefined && lastModified) {
    const since = Date.parse(ims);
    if (Number.isNaN(since)) return false;
    return Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}

/** Inclusive byte positions of a body. */
export interface ByteSpan { readonly start: number; readonly end: number }

/**
 * The outcome of a Range header against a body of `size` bytes: the whole body, one range, several
 * ranges (a `multipart/byteranges` answer, in the order asked unless coalesced), or none satisfiable.
 */
export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'multipart'; ranges: readonly ByteSpan[] }
  | { kind: 'unsatisfiable' };

/**
 * More range specs than this and the whole body is sent: a header of hundreds of tiny ranges costs
 * more in part headers than it saves, and is how range amplification attacks look.
 */
export const MAX_RANGES = 16;

/** Evaluates `Range` (and `If-Range`) for a body of `size` bytes. */
export function evaluateRange(range: string | undefined, ifRange: string | undefined, size: number, etag: string | undefined, lastModified: Date | undefined): RangeResult {
  if (!range) return { kind: 'full' };
  if (ifRange !== undefined && !ifRangeMatches(ifRange.trim(), etag, lastModified)) return { kind: 'full' };
  const m = /^\s*bytes\s*=(.*)$/is.exec(range);
  if (!m) return { kind: 'full' };
  // A list may hold empty elements (`bytes=0-1,,5-6`): they are skipped, as RFC 9110 §5.6.1 says.
  const specs = m[1]!.split(',').map((spec) => spec.trim()).filter((spec) => spec !== '');
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: 'full' };
  const spans: ByteSpan[] = [];
  for (const spec of specs) {
    const span = resolveSpec(spec, size);
    // One malformed spec makes the whole header invalid, and an invalid Range is ignored.
    if (span === 'invalid') return { kind: 'full' };
    if (span) spans.push(span);
  }
  if (spans.length === 0) return { kind: 'unsatisfiable' };
  const ranges = coalesce(spans);
  if (ranges.length === 1) return { kind: 'partial', start: ranges[0]!.start, end: ranges[0]!.end };
  return { kind: 'multipart', ranges };
}

function ifRangeMatches(value: string, etag: string | undefined, lastModified: Date | undefined): boolean {
  // If-Range compares strongly: a weak tag never matches.
  if (value.startsWith('"') || value.startsWith('W/')) return etag !== undefined && !value.startsWith('W/') && value === etag;
  return lastModified !== undefined && Date.parse(value) === Math.floor(lastModified.getTime() / 1000) * 1000;
}

/** One `a-b`, `a-` or `-n` against `size` bytes: its span, `undefined` when unsatisfiable, or `'invalid'`. */
function resolveSpec(spec: string, size: number): ByteSpan | undefined | 'invalid' {
  const m = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return 'invalid';
  if (start >= size) return undefined;
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

/**
 * Ranges that overlap or touch are merged (RFC 9110 §14.6 allows it), so no byte is sent twice
 * and a request for `0-9,5-14` costs one part. Merging sorts them; ranges that neither overlap
 * nor touch keep the order they were asked in.
 */
function coalesce(spans: readonly ByteSpan[]): readonly ByteSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.start <= last.end + 1) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged.length === spans.length ? spans : merged;
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
