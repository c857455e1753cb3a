import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { Logger } from '../util/logger.js';
import type { PartialReader } from '../storage/storage.js';
import type { PluginMount } from './mount.js';
import type { UpstreamAuth } from './upstream-auth.js';
import type { PluginStore } from './plugin-store.js';
import type { ErrorBodyFormatter } from '../server/error-format.js';
import type { Verification } from '../contract/verification.js';

export type { PluginMount, MountRequest, MountTarget } from './mount.js';
export type { UpstreamAuth, AuthFetch, AuthFetchResponse } from './upstream-auth.js';
export type { PluginStore } from './plugin-store.js';
export type { ErrorBodyFormatter, PublicError, ErroredRequest } from '../server/error-format.js';
export type * from '../contract/verification.js';

/**
 * The contract between the core and a format plugin. A plugin package's default export is a
 * {@link FormatPlugin}: a description of one repository format. The core loads it by package name
 * or path, checks it, validates each remote's options with its schema and asks it, per request,
 * what the request is ({@link Handler.canHandle}) and how to answer it ({@link Handler.fetch}).
 * A plugin never touches storage, metadata or the hot cache: it gets the pipeline in its context.
 */
export interface FormatPlugin<O extends object = Record<string, unknown>> {
  /** The format's name: the `type:` of a remote (`generic`, `npm`). Lowercase, `[a-z][a-z0-9-]*`. */
  readonly name: string;
  /** Semver range of `@cacheforge/core` versions this plugin works with (e.g. `^0.1.0`). */
  readonly core: string;
  /** One line for `cacheforge config check` and logs. */
  readonly description?: string;
  /**
   * Builds the schema of a remote's format-specific options, with the core's own copy of zod so a
   * plugin needs no zod of its own. Keys are merged beside the core's remote keys (`upstream`,
   * `include`, ...) and may not reuse them. Absent: the format has no options of its own.
   */
  readonly options?: (zod: typeof z) => z.ZodObject;
  /** The format's built-in classes: which paths are immutable artifacts, which mutable documents. */
  readonly classes?: FormatClasses;
  /** Remotes this plugin adds to the embedded defaults (no config file), by remote name. */
  readonly defaultRemotes?: (env: DefaultsEnvironment) => Promise<Record<string, Record<string, unknown>>> | Record<string, Record<string, unknown>>;
  /** Path rules that differ from the core's strict defaults. */
  readonly paths?: {
    /**
     * Whether `%2F` may appear inside a path segment (npm's `@scope%2fname`). Default false: the
     * core answers 400, because an encoded slash is the classic way to smuggle a path past a check.
     */
    readonly encodedSlash?: boolean;
  };
  /**
   * A root prefix served for all of this format's remotes (e.g. `/v2/` for a registry API), with
   * the rule that picks the remote per request. Absent: remotes are reached only at `/<remote>/`.
   */
  readonly mount?: PluginMount;
  /**
   * Writes error bodies in the format's own shape for requests routed to its remotes (including
   * refused methods); the core still picks the status. Absent: the core's `{errors:[...]}`.
   */
  readonly errorBody?: ErrorBodyFormatter;
  /**
   * HTTP methods beyond GET and HEAD that this format classifies (npm's audit is a POST). The core
   * refuses every other method with 405 before the handler sees it; a request with one of these
   * methods may only be routed `passthrough` or `refused`.
   */
  readonly methods?: readonly ExtraMethod[];
  /**
   * The upstream of a remote of this type whose config names none (e.g. the registry the machine's
   * own client is configured for). Called at most once per load; must return an absolute http(s) URL.
   */
  readonly defaultUpstream?: (env: DefaultsEnvironment) => Promise<string> | string;
  /**
   * Hosts, besides the upstream's own and the remote's `allowedHosts`, that this remote's handler
   * fetches from, derived from its options (a format whose files live on a second host). Called
   * once per remote at start; exact names or `*.example.com`, with `:port` for any port but the scheme's default (a URL's `host`).
   */
  readonly upstreamHosts?: (remote: RemoteDefinition<O>) => readonly string[];
  /**
   * Checks rules that span all of this format's remotes (at most one marked as the default, say),
   * once their own options are valid. Each problem is reported at `remotes.<remote>.<key>` with
   * the config file's other problems, and the start stops. Pure: no I/O.
   */
  readonly checkRemotes?: (remotes: readonly RemoteDefinition<O>[]) => readonly RemoteProblem[];
  /** Makes the handler of one configured remote. Called once per remote at start. */
  createHandler(remote: RemoteDefinition<O>, context: PluginContext): Handler;
}

/** A config problem {@link FormatPlugin.checkRemotes} found: the remote, the key under it, and why. */
export interface RemoteProblem {
  readonly remote: string;
  readonly key: string;
  readonly message: string;
}

/** Methods a plugin may opt into (see {@link FormatPlugin.methods}). */
export type ExtraMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a plugin's `defaultRemotes` may consult to pick defaults (e.g. the machine's npm registry). */
export interface DefaultsEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /**
   * True when `url` reaches this Cache Forge's own listen address (a client config that points
   * at the proxy, such as `registry=` in `~/.npmrc`): a default upstream must never be one, or
   * every miss would loop until it timed out. Absent when the port is not known before start (0).
   */
  readonly pointsAtSelf?: (url: URL) => boolean;
}

/** Classes a format declares; the remote's config patterns take precedence over them. */
export interface FormatClasses {
  /** Regexes (on the path below the remote) of immutable artifacts: fetched once, kept forever. */
  readonly immutable?: readonly string[];
  /** Regexes of mutable documents: revalidated after their TTL. */
  readonly mutable?: readonly string[];
  /** The class of a path matched by nothing. Default `mutable` (always correct, only slower). */
  readonly fallback?: 'immutable' | 'mutable';
  /** Default TTLs in milliseconds: `mutable` (default 10 min), `negative` (default 1 min). */
  readonly ttl?: { readonly mutable?: number; readonly negative?: number };
}

/** One configured remote as a plugin sees it: its name, upstream and validated options. */
export interface RemoteDefinition<O extends object = Record<string, unknown>> {
  /** The remote's name: the first path segment clients use (`/npm/...`). */
  readonly name: string;
  /** The upstream base URL, always ending in `/`. */
  readonly upstream: URL;
  /** The format-specific options, validated by the plugin's schema, `${VAR}`s resolved. */
  readonly options: O;
}

/** Services a plugin's handler gets at creation: narrow on purpose, no DI container. */
export interface PluginContext {
  readonly log: Logger;
  /**
   * Disposable key/value state with expiry, in the (possibly shared) hot cache, namespaced to this
   * remote. The core always sets it; it is optional only so unit tests can make handlers without one.
   */
  readonly store?: PluginStore;
}

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

/** How to ask the upstream for one object. */
export interface UpstreamRequest {
  /**
   * Absolute URL; must be on the remote's upstream host or one of its allowed hosts. A string is
   * parsed only when the upstream is actually asked (hits never pay for it).
   */
  readonly url: URL | string;
  /** Extra request headers (e.g. `accept`). Credentials are added by the core. */
  readonly headers?: Readonly<Record<string, string>>;
}

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

/** How a response came to be: the `X-Cache-Status` header. */
export type CacheStatus = 'HIT' | 'MISS' | 'REVALIDATED' | 'STALE' | 'BYPASS';

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

/** A mutable document read whole, for handlers that transform or parse it. */
export interface LoadedDocument {
  readonly body: Buffer;
  readonly cacheStatus: CacheStatus;
  readonly contentType?: string;
  /** Strong validator of the stored bytes. */
  readonly etag: string;
  readonly lastModified?: Date;
  readonly headers: Readonly<Record<string, string>>;
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
   * Forgets the upstream 404s remembered for keys starting with `prefix` (a document that lists
   * them changed: maven's `maven-metadata.xml` names a new version), here and on other replicas.
   */
  forgetNotFound(prefix: string): Promise<void>;
}

/** Per-request services handed to {@link Handler.fetch}. */
export interface FetchContext {
  readonly pipeline: Pipeline;
  readonly log: Logger;
}

/** One remote's request handler, made by {@link FormatPlugin.createHandler}. */
export interface Handler {
  /**
   * Classifies a request; `undefined` when it is outside the format's URL space (the core answers
   * 404). Pure and synchronous: no I/O, no state.
   */
  canHandle(req: ArtifactRequest): Route | undefined;
  /** Answers a request `canHandle` classified as cached or passthrough. */
  fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse>;
  /** How the remote's upstream client authenticates (token flows); absent: only the remote's `headers`. */
  readonly upstreamAuth?: UpstreamAuth;
}

/** Identity helper that gives a plugin's default export its types. */
export function definePlugin<O extends object>(plugin: FormatPlugin<O>): FormatPlugin<O> {
  return plugin;
}
