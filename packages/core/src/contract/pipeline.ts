import type { Readable } from 'node:stream';
import type { ArtifactRequest, CachedRoute } from './request.js';
import type { PartialReader } from './partial-reader.js';
import type { CacheStatus, LoadedDocument, UpstreamRequest } from './documents.js';
import type { Verification } from './verification.js';

/**
 * Options of a pipeline request beyond the route, each read by one stage: `verify`, `keepHeaders`
 * and `alias` by the fill, `headValidator` by revalidation, `fillOnHead` by the lookup,
 * `rememberNotFound` by the negative cache.
 */
export interface ServeOptions {
  /**
   * How the bytes are verified before commit (the upstream's Content-Length is always checked).
   * A mismatch is retried once from the upstream, then answered `502 CF_ERR_UPSTREAM_DIGEST_MISMATCH`.
   */
  readonly verify?: Verification;
  /** Response headers to keep from the upstream and replay on hits (lowercase names). */
  readonly keepHeaders?: readonly string[];
  /**
   * A response header (lowercase, kept with `keepHeaders`) whose value names the content, such as
   * a content digest. A stale copy is then revalidated with a HEAD request: the same value means
   * unchanged, without a GET (some upstreams count only GETs against rate limits).
   */
  readonly headValidator?: string;
  /**
   * A HEAD for an object not held fetches and stores it like a GET (for small documents whose HEAD
   * is followed by a GET), instead of being relayed as HEAD. The HEAD is answered once the object
   * is stored.
   */
  readonly fillOnHead?: boolean;
  /**
   * A second key under which a filled object is also recorded, given its sha256 (hex): for
   * documents that are also addressable by their own digest (a tag's manifest is its digest's
   * manifest), so a later request by digest is a hit, also when the upstream is down. The alias is
   * immutable: its key names the content.
   */
  readonly alias?: (sha256: string) => CachedRoute;
  /**
   * Whether an upstream 404/410 for this request is remembered for `ttl.negative` (default true).
   * False when the 404 may be the upstream's answer to how it was asked rather than to what (a
   * manifest asked with fewer media types than the registry has: another client's Accept gets it).
   */
  readonly rememberNotFound?: boolean;
}

/**
 * A stored or in-flight object as the server sends it: the server applies HEAD, conditional
 * requests and ranges to it, so handlers need not.
 */
export interface Entity {
  /** Size in bytes; absent only while an upstream body of unknown length is still arriving. */
  readonly size?: number;
  readonly contentType?: string;
  /** Strong validator of the exact bytes (quoted). */
  readonly etag?: string;
  readonly lastModified?: Date;
  /** The whole body, when it is held in memory (small hot objects): served without a read. */
  readonly bytes?: Buffer;
  /**
   * Every response header of a full 200 `HIT` answer with `bytes` (lowercase names, and
   * `X-Cache-Status` spelt so, as on every other response; with `content-length`), computed once per stored object: the server answers
   * a hot hit without building a header object per request.
   */
  readonly headerBlock?: Readonly<Record<string, string>>;
  /** Opens the bytes `[start, end]` (inclusive), or all of them. */
  open(range?: { start: number; end: number }): Promise<Readable>;
  /**
   * Opens positional reads over the stored bytes, when they are complete in storage: the server
   * then sends large bodies through two reused buffers instead of a stream of fresh ones.
   */
  openReader?(): Promise<PartialReader>;
  /**
   * A URL the client may fetch these exact bytes from itself (a storage configured to redirect,
   * e.g. a presigned S3 URL); when it gives one, a GET is answered 302 to it.
   */
  locate?(): Promise<string | undefined>;
}

/** What a handler returns; the server turns it into the HTTP response. */
export interface ArtifactResponse {
  readonly status: number;
  readonly cacheStatus: CacheStatus;
  /** Response headers (lowercase names). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A rangeable, conditional-aware object (cached responses). */
  readonly entity?: Entity;
  /** A plain body (transformed documents, passthrough). */
  readonly body?: Buffer | string | Readable;
}

/** The cache pipeline, as plugins use it. */
export interface Pipeline {
  /** Get-or-fetch `route` and answer the request with the stored (or arriving) bytes. */
  serve(req: ArtifactRequest, route: CachedRoute, upstream: UpstreamRequest, options?: ServeOptions): Promise<ArtifactResponse>;
  /** Get-or-fetch `route` and read it whole (at most `maxBytes`), for documents a plugin parses. */
  load(route: CachedRoute, upstream: UpstreamRequest, options?: ServeOptions & { maxBytes?: number }): Promise<LoadedDocument>;
  /** Relays the request to the upstream, storing nothing. */
  passthrough(req: ArtifactRequest, upstream: UpstreamRequest): Promise<ArtifactResponse>;
  /**
   * Forgets the upstream 404s remembered for keys under `prefix`: a folder (ending in `/`) or one
   * whole key, because a document that lists them changed (maven's `maven-metadata.xml` names a new
   * version). Here and on the other replicas.
   */
  forgetNotFound(prefix: string): Promise<void>;
}

