import { z } from 'zod';
import { baseUrl, duration, regex, size, timerDuration } from './fields.js';
import { LOG_LEVELS } from '../util/logger.js';
import { validAllowedEntry } from '../net/host-patterns.js';
import { authSchema, AUTH_DEFAULTS } from './auth-schema.js';

/**
 * The core's config schema. Every field documents its default and what zero means; the README's
 * config reference repeats these. Plugins add their remote options beside the core's remote keys
 * (see `remoteSchema`).
 */

/** Upstream client settings; the top-level block sets defaults, a remote may override each. */
export const upstreamSettings = z.strictObject({
  /** TCP/TLS connect timeout. Default 10s; 0 = no limit. */
  connectTimeout: timerDuration.optional(),
  /** Time from request sent to response headers, for one attempt. Default 15s; 0 = no limit. */
  responseTimeout: timerDuration.optional(),
  /**
   * The whole wait for response headers, connects, retries and their backoff included: the longest a
   * client waits before a 504. Default 30s (two 15s attempts fit); 0 = no limit.
   */
  firstByteTimeout: timerDuration.optional(),
  /** Longest silence while a body streams; a stalled upstream fails after it. Default 60s; 0 = no limit. */
  idleTimeout: timerDuration.optional(),
  /** Retries before the first byte for idempotent failures (connect errors, 500/502/503/504). Default 2; 0 = none. */
  retries: z.number().int().min(0).max(10).optional(),
  /** Open sockets per upstream host. Default 64. */
  maxSockets: z.number().int().min(1).optional(),
  /**
   * A miss of at most this size is verified (length and digest) before its first byte is sent,
   * so a bad download is a clean 502 rather than a body cut off at the end. Larger ones stream at
   * once, their last byte held back until verified. Default 16MiB; 0 = always stream.
   */
  verifyBeforeSend: size.optional(),
  /**
   * Failed requests in a row (connect failures, timeouts) after which an upstream host is marked
   * down: requests are then answered from storage at once, and one probe at a time goes out after
   * a pause that doubles from 1s to 60s. Default 3; 0 = never marked down.
   */
  downAfter: z.number().int().min(0).optional(),
});

export type UpstreamSettings = Required<z.output<typeof upstreamSettings>>;

export const UPSTREAM_DEFAULTS: UpstreamSettings = {
  connectTimeout: 10_000, responseTimeout: 15_000, firstByteTimeout: 30_000, idleTimeout: 60_000, retries: 2, maxSockets: 64, verifyBeforeSend: 16 * 1024 * 1024, downAfter: 3,
};

/** The name of a remote: the first path segment. `-` is reserved for our own endpoints. */
export const REMOTE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The keys the core owns in every remote; plugins' options may not reuse them. */
export const remoteBaseShape = {
  /** The format plugin's name. Required. */
  type: z.string(),
  /**
   * Base URL of the upstream. Required, unless the format discovers one (its plugin's
   * `defaultUpstream`, e.g. the registry the machine's own client uses).
   */
  upstream: baseUrl.optional(),
  /** Allow-list of path regexes; anything else gets 403. Default: everything allowed. */
  include: z.array(regex).optional(),
  /** Deny-list of path regexes (checked after `include`); a match gets 403. Default: none. */
  exclude: z.array(regex).optional(),
  /** Paths of immutable artifacts (fetched once). Default: the plugin's. */
  immutable: z.array(regex).optional(),
  /** Paths of mutable documents (revalidated after `ttl.mutable`); checked before `immutable`. */
  mutable: z.array(regex).optional(),
  ttl: z.strictObject({
    /** How long a mutable document is served without asking the upstream. Default: the plugin's (10m); 0 = revalidate every time. */
    mutable: duration.optional(),
    /** How long an upstream 404 is remembered. Default: the plugin's (1m); 0 = never remembered. */
    negative: duration.optional(),
  }).optional(),
  /** Largest artifact stored; a larger one gets 403. Default 0 = no limit. */
  maxSize: size.optional(),
  /**
   * Other origins the upstream may redirect to: `cdn.example.com` (the scheme's default port),
   * `cdn.example.com:8443`, `*.cloudfront.net`. Default: none but the upstream's own origin.
   */
  allowedHosts: z.array(z.string().min(1).refine(validAllowedEntry, { message: 'expected a host name, `*.example.com` or `host:port`' })).optional(),
  /** Extra headers sent to the upstream's own origin (e.g. `authorization: Bearer ${TOKEN}`); never logged, never sent after a redirect to another origin. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Overrides of the top-level `upstream` settings for this remote. */
  client: upstreamSettings.optional(),
  /** Serve only what is stored, never asking the upstream. Default: `server.offline`. */
  offline: z.boolean().optional(),
} as const;

const remoteBase = z.strictObject(remoteBaseShape);
export type RemoteBaseConfig = z.output<typeof remoteBase>;

/** The remote schema for one format: the core's keys plus the plugin's options. */
export function remoteSchema(pluginOptions?: z.ZodObject): z.ZodType {
  if (!pluginOptions) return remoteBase;
  return z.strictObject({ ...pluginOptions.shape, ...remoteBaseShape });
}

/** A remote's keys before its plugin is known (its own options pass for now). */
export const looseRemote = z.looseObject({ ...remoteBaseShape });

/** A config block that picks one implementation among its keys. */
function exactlyOne(what: string, choices: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const chosen = choices.filter((k) => value[k] !== undefined);
    if (chosen.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `exactly one ${what} must be configured (${choices.join(' or ')}), found ${chosen.length === 0 ? 'none' : chosen.join(', ')}` });
    }
  };
}

/** `storage.s3`: blobs in an S3 bucket (AWS, MinIO, Ceph, ...). */
export const s3Schema = z.strictObject({
  /** Host name of the S3 endpoint, without scheme (e.g. `minio.lan`, `s3.eu-west-1.amazonaws.com`). Required. */
  endPoint: z.string().min(1).refine((v) => !/^[a-z]+:\/\//i.test(v) && !v.includes('/'), { message: 'expected a host name without scheme or path (set port and useSSL separately)' }),
  /** TCP port. Default: 443 with SSL, 80 without. */
  port: z.number().int().min(1).max(65535).optional(),
  /** HTTPS. Default true. */
  useSSL: z.boolean().default(true),
  /** Region the bucket is (or is created) in. Default us-east-1. */
  region: z.string().min(1).default('us-east-1'),
  /** Bucket name; created when missing (if the credentials may). Required. */
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)'),
  /** Key prefix of every object (e.g. `cacheforge/`), to share a bucket. Default none. */
  prefix: z.string().default('').refine((v) => v === '' || (v.endsWith('/') && !v.startsWith('/')), { message: 'expected "" or a prefix ending in / (not starting with /)' }),
  /** Access key; use `${S3_ACCESS_KEY}` to take it from the environment. Required. */
  accessKey: z.string().min(1),
  /** Secret key; use `${S3_SECRET_KEY}`. Required. */
  secretKey: z.string().min(1),
  /** Session token of temporary credentials. Default none. */
  sessionToken: z.string().min(1).optional(),
  /** Path-style URLs (`host/bucket/key`), as MinIO wants; false = virtual-host style (AWS). Default true. */
  pathStyle: z.boolean().default(true),
  /** Multipart part size; each upload under way holds about two parts in memory. Default 16MiB; at least 5MiB. */
  partSize: size.refine((n) => n >= 5 * 1024 * 1024, { message: 'expected at least 5MiB (the S3 minimum part size)' }).default(16 * 1024 * 1024),
  /** Where concurrent clients of a fill read its bytes from while the upload runs. Default ./data/spool. */
  spool: z.string().min(1).default('./data/spool'),
  /** Answer hits with a 302 to a presigned URL of the object, so clients download from S3 directly. Default false. */
  redirect: z.boolean().default(false),
  /** How long a presigned URL stays valid. Default 5m; at most 7d (the S3 limit). */
  redirectExpiry: duration.refine((ms) => ms >= 1000 && ms <= 7 * 24 * 3600_000, { message: 'expected between 1s and 7d' }).default(300_000),
});

/** `metadata.postgres`: the catalogue in PostgreSQL, shared by replicas. */
export const postgresSchema = z.strictObject({
  /** `postgres://user:password@host:5432/db` or the fields (host, port, user, password, database). Required. */
  connection: z.union([
    z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
    z.strictObject({
      host: z.string().min(1), port: z.number().int().min(1).max(65535).default(5432),
      user: z.string().min(1), password: z.string().optional(), database: z.string().min(1),
      ssl: z.boolean().optional(),
    }),
  ]),
  /** Connections per replica. Default max 10. */
  pool: z.strictObject({ max: z.number().int().min(1).max(1000).default(10) }).default({ max: 10 }),
  /** Schema the tables live in (created if missing). Default public. */
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier').default('public'),
});

/** `cache.redis`: the hot cache and fill locks in Redis, shared by replicas. */
export const redisSchema = z.strictObject({
  /** `redis://[user:password@]host:6379/0` or `rediss://`. Required. */
  url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
  /** Prefix of every key, to share one Redis. Default cacheforge. */
  prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected letters, digits, _ . or -').default('cacheforge'),
  /** Connect and per-command timeout; Redis slower than this counts as down. Default 2s. */
  timeout: timerDuration.default(2000),
});

export const serverSchema = z.strictObject({
  /** Interface to listen on. Default 0.0.0.0. */
  host: z.string().default('0.0.0.0'),
  /** TCP port. Default 8080; 0 = any free port (logged at start). */
  port: z.number().int().min(0).max(65535).default(8080),
  /** The URL clients use to reach us, when behind a proxy that rewrites Host. Default: derived per request. */
  publicUrl: baseUrl.optional(),
  /**
   * Trust X-Forwarded-Proto/Host/For from one reverse proxy (the client is the right-most
   * X-Forwarded-For entry, the address that proxy saw). Default false.
   */
  trustProxy: z.boolean().default(false),
  /** How long a client may take to send a request's headers before its connection is closed (slowloris). Default 20s; 0 = no limit. */
  headersTimeout: timerDuration.default(20_000),
  /**
   * Concurrent connections per client address; more are closed at once. With `trustProxy`, the
   * proxy holds the connections, so requests in progress per forwarded address are capped instead
   * (429). Default 256; 0 = no limit.
   */
  maxConnectionsPerClient: z.number().int().min(0).default(256),
  /** How long in-flight downloads get to finish on SIGTERM before they are aborted. Default 30s; 0 = abort at once. */
  shutdownTimeout: timerDuration.default(30_000),
  /** Every remote serves only what is stored (a remote's own `offline` overrides it). Default false. */
  offline: z.boolean().default(false),
  /**
   * Worker processes serving the listening socket, besides the one that supervises them: a count
   * (1-256), or `auto` for one per CPU (`os.availableParallelism()`). Default 1 (no supervisor).
   */
  workers: z.union([z.number().int().min(1).max(256), z.literal('auto')], {
    error: 'expected a whole number from 1 to 256, or "auto"',
  }).default(1),
});

export const coreSchema = z.strictObject({
  server: serverSchema.default(() => serverSchema.parse({})),
  log: z.strictObject({
    /** trace, debug, info, warn, error, fatal or silent. Default info. */
    level: z.enum(LOG_LEVELS).default('info'),
    /** One JSON line per request. Default true. */
    requests: z.boolean().default(true),
  }).default({ level: 'info', requests: true }),
  storage: z.strictObject({
    filesystem: z.strictObject({
      /** Directory of the blobs (created if missing). Default ./data/blobs. */
      path: z.string().min(1).default('./data/blobs'),
    }).optional(),
    s3: s3Schema.optional(),
  }).default({ filesystem: { path: './data/blobs' } }).superRefine(exactlyOne('storage backend', ['filesystem', 's3'])),
  metadata: z.strictObject({
    sqlite: z.strictObject({
      /** SQLite database file (created if missing). Default ./data/cacheforge.db. */
      filename: z.string().min(1).default('./data/cacheforge.db'),
    }).optional(),
    postgres: postgresSchema.optional(),
    /** How often hit counts and last-access times are written in one batch. Default 5s; 0 = on every request. */
    flushInterval: timerDuration.default(5000),
  }).default({ sqlite: { filename: './data/cacheforge.db' }, flushInterval: 5000 }).superRefine((value, ctx) => {
    exactlyOne('metadata backend', ['sqlite', 'postgres'])(value, ctx);
  }),
  cache: z.strictObject({
    memory: z.strictObject({}).optional(),
    redis: redisSchema.optional(),
    /** The per-key fill lock shared by replicas (see docs/architecture.md). */
    lock: z.strictObject({
      /** How long a lock outlives a holder that stopped renewing it (died). Default 15s. */
      ttl: timerDuration.refine((ms) => ms >= 1000, { message: 'expected at least 1s' }).default(15_000),
      /** How long a replica waits for another one's fill before fetching itself. Default 2m; 0 = never wait. */
      wait: timerDuration.default(120_000),
    }).default({ ttl: 15_000, wait: 120_000 }),
  }).default({ memory: {}, lock: { ttl: 15_000, wait: 120_000 } }).superRefine((value, ctx) => {
    exactlyOne('hot cache backend', ['memory', 'redis'])(value, ctx);
  }),
  /**
   * Streaming a fill across replicas (see docs/architecture.md): both keys set, a replica that
   * loses a key's lock streams the winner's fill from it instead of waiting for its commit.
   */
  cluster: z.strictObject({
    /** The URL the other replicas reach this one at. Default: the listen address, unless it is 0.0.0.0 / ::. */
    advertiseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Shared by every replica (write `"${CF_CLUSTER_SECRET}"`); guards `/-/internal/fills/`. */
    secret: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
  }).default({}),
  hot: z.strictObject({
    /** Memory for small hot bodies served without a disk read. Default 64MiB; 0 = none. */
    maxBytes: size.default(64 * 1024 * 1024),
    /** Largest body kept in memory. Default 256KiB. */
    maxObjectBytes: size.default(256 * 1024),
  }).default({ maxBytes: 64 * 1024 * 1024, maxObjectBytes: 256 * 1024 }),
  /** Tokens and anonymous read (see auth-schema.ts). */
  auth: authSchema.default(AUTH_DEFAULTS),
  /** Default upstream client settings for every remote. */
  upstream: upstreamSettings.default({}),
  /** Plugin packages (full names) or paths. Default: every installed @cacheforge/plugin-*. */
  plugins: z.array(z.string().min(1)).optional(),
  /** Remotes by name. Default: the remotes the loaded plugins declare. */
  remotes: z.record(z.string(), looseRemote).optional(),
});

export type CoreConfigInput = z.input<typeof coreSchema>;
export type ParsedCoreConfig = z.output<typeof coreSchema>;
