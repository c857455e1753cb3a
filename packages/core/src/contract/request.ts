import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';

/** Methods a plugin may opt into (see {@link FormatPlugin.methods}). */
export type ExtraMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The request as a handler sees it: already validated and normalized by the core. */
export interface ArtifactRequest {
  /** GET or HEAD, or one of the plugin's declared {@link FormatPlugin.methods}. */
  readonly method: 'GET' | 'HEAD' | ExtraMethod;
  /** The remote the request was addressed to. */
  readonly remote: string;
  /**
   * The path below the remote, percent-decoded per segment and re-joined with `/`, never starting
   * with `/`, free of `.`/`..` segments, NUL and backslashes. A segment that held `%2F` (only where
   * the plugin allows it) keeps it as a literal `/` inside `segments`, not in `path`.
   */
  readonly path: string;
  /** The decoded segments of `path`. */
  readonly segments: readonly string[];
  /** The raw (still percent-encoded) path below the remote, as the client sent it. */
  readonly rawPath: string;
  /** The query string including its `?`, or `''`. */
  readonly search: string;
  readonly headers: IncomingHttpHeaders;
  /** The base URL under which this client reached this remote, ending in `/` (for rewriting). */
  readonly publicBase: URL;
  /** The request body, for a declared extra method (relayed by `Pipeline.passthrough`). */
  readonly body?: Readable;
}

/** What a request is, as a handler classifies it. Pure data: no I/O happens in `canHandle`. */
export type Route = CachedRoute | PassthroughRoute | RefusedRoute;

/** A request answered from the cache, filled from the upstream on a miss. */
export interface CachedRoute {
  readonly kind: 'cached';
  /** The cache key within the remote; usually the path (plus the query where it matters). */
  readonly key: string;
  /**
   * The class, when the format knows it (an npm tarball is immutable). Absent: the remote's
   * patterns decide, then the format's {@link FormatClasses}.
   */
  readonly class?: 'immutable' | 'mutable';
  /** A mutable document's TTL in milliseconds, overriding the remote's. */
  readonly ttl?: number;
  /** A representation variant stored apart under the same key (e.g. an Accept value). */
  readonly variant?: string;
}

/** A request relayed to the upstream and never stored (search, audit). */
export interface PassthroughRoute { readonly kind: 'passthrough' }

/** A request the format refuses (publishing to a proxy, an unsupported endpoint). */
export interface RefusedRoute {
  readonly kind: 'refused';
  readonly status: 403 | 404 | 405;
  readonly reason: string;
}

