/**
 * RFC 9110 conditional requests and ranges, as a cache serves them: If-None-Match (weak
 * comparison) before If-Modified-Since; one byte range (`bytes=a-b`, `a-`, `-n`), honoured only
 * when If-Range (if any) still matches. Multi-range and malformed Range headers are ignored (the
 * whole body is sent), which the RFC allows.
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

/** The outcome of a Range header against a body of `size` bytes. */
export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/** Evaluates `Range` (and `If-Range`) for a body of `size` bytes. */
export function evaluateRange(range: string | undefined, ifRange: string | undefined, size: number, etag: string | undefined, lastModified: Date | undefined): RangeResult {
  if (!range) return { kind: 'full' };
  if (ifRange !== undefined) {
    const value = ifRange.trim();
    const matches = value.startsWith('"') || value.startsWith('W/')
      ? etag !== undefined && !value.startsWith('W/') && value === etag
      : lastModified !== undefined && Date.parse(value) === Math.floor(lastModified.getTime() / 1000) * 1000;
    if (!matches) return { kind: 'full' };
  }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  }
  if (start >= size || size === 0) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
