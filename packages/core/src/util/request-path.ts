import { cfError } from '../errors/errors.js';

/** Longest request path below a remote, in bytes of its raw (encoded) form. */
export const MAX_PATH_BYTES = 2048;
/** Longest decoded path segment (a file name). */
export const MAX_SEGMENT_BYTES = 255;

/** A path below a remote, decoded and checked. */
export interface RemotePath {
  readonly path: string;
  readonly segments: readonly string[];
}

/**
 * Decodes and checks the raw path below a remote. Refuses (CF_ERR_REQUEST_BAD_PATH, 400) every
 * shape used to climb out of a directory or confuse a later layer: `.`/`..` segments (also
 * encoded, also as invalid "overlong" UTF-8 such as `%c0%ae`), backslashes, NUL and other control
 * characters, empty segments, and `%2F` inside a segment unless the format needs it. Overlong
 * paths and segments are refused too.
 */
export function parseRemotePath(raw: string, options: { encodedSlash?: boolean } = {}): RemotePath {
  return plainPath(raw) ?? decodedPath(raw, options);
}

/**
 * Characters that need no decoding and no check beyond the segment rules: unreserved and
 * sub-delims of RFC 3986, `:`, `@` and `/`. No `%`, backslash, control character or non-ASCII.
 */
const PLAIN = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]+$/;

/**
 * The common case without decoding (every hit pays for this function): a path of plain
 * characters is its own decoded form, so only the segment rules are left to check. `undefined`:
 * anything else, for {@link decodedPath} to decode, check, and refuse with its reason.
 */
function plainPath(raw: string): RemotePath | undefined {
  if (raw.length > MAX_PATH_BYTES || !PLAIN.test(raw)) return undefined;
  const segments = raw.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '' ? i === 0 || i !== segments.length - 1 : segment === '.' || segment === '..' || segment.length > MAX_SEGMENT_BYTES) return undefined;
  }
  return { path: raw, segments };
}

function decodedPath(raw: string, options: { encodedSlash?: boolean }): RemotePath {
  const bad = (why: string) => cfError('CF_ERR_REQUEST_BAD_PATH', `bad request path: ${why}`, { op: 'request.path' });
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) throw bad(`longer than ${MAX_PATH_BYTES} bytes`);
  if (raw.includes('\\') || /%5c/i.test(raw)) throw bad('backslash');
  if (raw === '') return { path: '', segments: [] };
  const rawSegments = raw.split('/');
  const segments: string[] = [];
  for (const [i, rawSegment] of rawSegments.entries()) {
    if (rawSegment === '') {
      // A trailing slash names a directory index; an empty segment anywhere else is refused.
      if (i === rawSegments.length - 1 && i > 0) { segments.push(''); continue; }
      throw bad('empty path segment');
    }
    let segment: string;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      throw bad('invalid percent-encoding or UTF-8');
    }
    if (segment === '.' || segment === '..') throw bad('dot segment');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(segment)) throw bad('control character');
    if (segment.includes('\\')) throw bad('backslash');
    if (segment.includes('/') && !options.encodedSlash) throw bad('encoded slash');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw bad(`segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    segments.push(segment);
  }
  return { path: segments.join('/'), segments };
}
