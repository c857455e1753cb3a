import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';
import { LOG_LEVELS } from '../util/logger.js';

/**
 * The core's config schema. Every field documents its default and what zero means; the README's
 * config reference repeats these. Plugins add their remote options beside the core's remote keys
 * (see `remoteSchema`).
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

/** Upstream client settings; the top-level block sets defaults, a remote may override each. */
export const upstreamSettings = z.strictObject({
  /** TCP/TLS connect timeout. Default 10s; 0 = no limit. */
  connectTimeout: timerDuration.optional(),
  /** Time from request sent to response headers. Default 30s; 0 = no limit. */
  responseTimeout: timerDuration.optional(),
  /** Longest silence while a body streams; a stalled upstream fails after it. Default 60s; 0 = no limit. */
  idleTimeout: timerDuration.optional(),
  /** Retries before the first byte for idempotent failures (connect errors, 500/502/503/504). Default 2; 0 = none. */
  retries: z.number().int().min(0).max(10).optional(),
  /** Open sockets per upstream host. Default 64. */
  maxSockets: z.number().int().min(1).optional(),
});

export type UpstreamSettings = Required<z.output<typeof upstreamSettings>>;

export const UPSTREAM_DEFAULTS: UpstreamSettings = {
  connectTimeout: 10_000, responseTimeout: 30_000, idleTimeout: 60_000, retries: 2, maxSockets: 64,
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
  /** Extra hosts the upstream may redirect to (exact names, or `*.example.com`). Default: none but the upstream's own host. */
  allowedHosts: z.array(z.string().min(1)).optional(),
  /** Extra headers sent upstream (e.g. `authorization: Bearer ${TOKEN}`); never logged. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Overrides of the top-level `upstream` settings for this remote. */
  client: upstreamSettings.optional(),
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

export const serverSchema = z.strictObject({
  /** Interface to listen on. Default 0.0.0.0. */
  host: z.string().default('0.0.0.0'),
  /** TCP port. Default 8080; 0 = any free port (logged at start). */
  port: z.number().int().min(0).max(65535).default(8080),
  /** The URL clients use to reach us, when behind a proxy that rewrites Host. Default: derived per request. */
  publicUrl: baseUrl.optional(),
  /** Trust X-Forwarded-Proto/Host from a reverse proxy. Default false. */
  trustProxy: z.boolean().default(false),
  /** How long in-flight downloads get to finish on SIGTERM before they are aborted. Default 30s; 0 = abort at once. */
  shutdownTimeout: timerDuration.default(30_000),
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
  }).default({ filesystem: { path: './data/blobs' } }).superRefine((value, ctx) => {
    const chosen = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
    if (chosen.length !== 1) ctx.addIssue({ code: 'custom', message: `exactly one storage backend must be configured, found ${chosen.length === 0 ? 'none' : chosen.join(', ')}` });
  }),
  metadata: z.strictObject({
    sqlite: z.strictObject({
      /** SQLite database file (created if missing). Default ./data/cacheforge.db. */
      filename: z.string().min(1).default('./data/cacheforge.db'),
    }).optional(),
    /** How often hit counts and last-access times are written in one batch. Default 5s; 0 = on every request. */
    flushInterval: timerDuration.default(5000),
  }).default({ sqlite: { filename: './data/cacheforge.db' }, flushInterval: 5000 }).superRefine((value, ctx) => {
    if (!value.sqlite) ctx.addIssue({ code: 'custom', message: 'a metadata backend must be configured (sqlite)' });
  }),
  cache: z.strictObject({
    memory: z.strictObject({}).optional(),
  }).default({ memory: {} }).superRefine((value, ctx) => {
    if (!value.memory) ctx.addIssue({ code: 'custom', message: 'a hot cache backend must be configured (memory)' });
  }),
  hot: z.strictObject({
    /** Memory for small hot bodies served without a disk read. Default 64MiB; 0 = none. */
    maxBytes: size.default(64 * 1024 * 1024),
    /** Largest body kept in memory. Default 256KiB. */
    maxObjectBytes: size.default(256 * 1024),
  }).default({ maxBytes: 64 * 1024 * 1024, maxObjectBytes: 256 * 1024 }),
  /** Default upstream client settings for every remote. */
  upstream: upstreamSettings.default({}),
  /** Plugin packages (full names) or paths. Default: every installed @cacheforge/plugin-*. */
  plugins: z.array(z.string().min(1)).optional(),
  /** Remotes by name. Default: the remotes the loaded plugins declare. */
  remotes: z.record(z.string(), looseRemote).optional(),
});

export type CoreConfigInput = z.input<typeof coreSchema>;
export type ParsedCoreConfig = z.output<typeof coreSchema>;
