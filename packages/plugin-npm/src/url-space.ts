import type { ArtifactRequest } from '@cacheforge/core';

/**
 * The npm registry API as clients use it, one request at a time. Names arrive scoped as
 * `@scope%2fname` (npm: lower-case, pnpm: upper-case `%2F`; the core decoded both into one
 * segment) or `@scope/name` (tarballs, some clients).
 */
export type NpmRequest =
  /** `/<name>`: the package document, full or abbreviated. */
  | { readonly kind: 'packument'; readonly name: string; readonly abbreviated: boolean }
  /** `/<name>/-/<file>.tgz`: one published tarball. */
  | { readonly kind: 'tarball'; readonly name: string; readonly file: string }
  /** `/<name>/<version or tag>`: one version's manifest. */
  | { readonly kind: 'version'; readonly name: string; readonly spec: string }
  /** `/-/package/<name>/dist-tags`: the tags of a package (`npm dist-tag ls`). */
  | { readonly kind: 'dist-tags'; readonly name: string }
  /** Asked of the upstream as is, never stored: ping, search, audit. */
  | { readonly kind: 'relay' }
  /** Writes (publish, unpublish, dist-tag changes) and accounts: not for a pull-through proxy. */
  | { readonly kind: 'refused'; readonly status: 404 | 405; readonly reason: string };

/** The `Accept` media type of the abbreviated ("corgi") package document. */
export const ABBREVIATED = 'application/vnd.npm.install-v1+json';

const AUDIT = /^-\/npm\/v1\/security\/(advisories\/bulk|audits\/quick|audits)$/;
const RELAYED_READS = new Set(['-/ping', '-/v1/search']);
const ACCOUNT = /^-\/(whoami|user\/|v1\/login|v1\/logout|npm\/v1\/user|npm\/v1\/tokens|org\/|team\/|npm\/v1\/hooks|access\/)/;

const READ_ONLY = 'is not supported on a proxy remote: Cache Forge mirrors an upstream registry read-only; publish to the upstream itself';

/** Classifies a request; undefined when it is outside the registry's URL space. */
export function describeRequest(req: ArtifactRequest): NpmRequest | undefined {
  const { segments, method } = req;
  if (segments[0] === '-') return describeEndpoint(req);
  const at = packageName(segments);
  if (!at) return undefined;
  const rest = segments.slice(at.used);
  if (method !== 'GET' && method !== 'HEAD') {
    const what = rest.length === 0 ? 'publishing' : 'unpublishing or changing a package';
    return { kind: 'refused', status: 405, reason: `${method} /${at.name}: ${what} ${READ_ONLY}` };
  }
  if (rest.length === 0) return { kind: 'packument', name: at.name, abbreviated: prefersAbbreviated(req.headers.accept) };
  if (rest.length === 2 && rest[0] === '-' && rest[1]!.endsWith('.tgz') && rest[1]!.length > 4) return { kind: 'tarball', name: at.name, file: rest[1]! };
  if (rest.length === 1 && rest[0] !== '-' && !rest[0]!.startsWith('_')) return { kind: 'version', name: at.name, spec: rest[0]! };
  return undefined;
}

function describeEndpoint(req: ArtifactRequest): NpmRequest | undefined {
  const path = req.path;
  const reading = req.method === 'GET' || req.method === 'HEAD';
  if (AUDIT.test(path)) return req.method === 'POST' ? { kind: 'relay' } : { kind: 'refused', status: 405, reason: `${req.method} /${path}: the audit endpoints take POST` };
  if (RELAYED_READS.has(path)) return reading ? { kind: 'relay' } : { kind: 'refused', status: 405, reason: `${req.method} /${path} ${READ_ONLY}` };
  const tags = /^-\/package\/(.+)\/dist-tags(?:\/[^/]+)?$/.exec(path);
  if (tags) {
    const name = tags[1]!;
    if (!reading) return { kind: 'refused', status: 405, reason: `${req.method} /${path}: changing dist-tags ${READ_ONLY}` };
    if (path.endsWith('/dist-tags') && validName(name)) return { kind: 'dist-tags', name };
    return undefined;
  }
  if (ACCOUNT.test(path) || path === '-/whoami') {
    return { kind: 'refused', status: reading ? 404 : 405, reason: `/${path}: accounts and tokens are not served by a proxy remote; Cache Forge authenticates to its upstream itself (the remote's token option)` };
  }
  return undefined;
}

/** The package name at the start of `segments` and how many segments it took. */
function packageName(segments: readonly string[]): { name: string; used: number } | undefined {
  const first = segments[0];
  if (!first) return undefined;
  if (first.startsWith('@')) {
    if (first.includes('/')) return validName(first) ? { name: first, used: 1 } : undefined;
    const second = segments[1];
    if (!second) return undefined;
    const name = `${first}/${second}`;
    return validName(name) ? { name, used: 2 } : undefined;
  }
  return validName(first) ? { name: first, used: 1 } : undefined;
}

/**
 * A package name as registries accept it (old names may hold upper case). `.`/`_` starts are
 * reserved (`_attachments`, `.bin`), which also keeps us off CouchDB's `_` endpoints.
 */
function validName(name: string): boolean {
  return /^(?:@[a-zA-Z0-9][\w.-]*\/)?[a-zA-Z0-9~-][\w.~-]*$/.test(name) && name.length <= 214;
}

/**
 * Whether a client asked for the abbreviated document. npm asks for `application/json` (full);
 * pnpm and yarn send the abbreviated type first with a lower-q full fallback.
 */
export function prefersAbbreviated(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes(ABBREVIATED);
}

/** The name as the registry's URL writes it: the scope's slash encoded, as npm itself sends it. */
export function encodedName(name: string): string {
  return name.startsWith('@') ? name.replace('/', '%2f') : name;
}
