import {
  cfError, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type FetchContext, type Handler,
  type Logger, type PassthroughRoute, type PluginContext, type PluginCounter, type Route,
} from '@cacheforge/core';
import { parsePath, type AptPath } from './paths.js';
import { listsPool, PoolIndex } from './pool-index.js';
import { parseRelease, releaseDigests, type ReleaseIndex } from './release.js';

/** Largest index read to learn its pool files (Debian main amd64 `Packages` is ~45 MB unpacked, far less packed). */
const INDEX_BYTES = 256 * 1024 * 1024;
/** Pool files logged once each when no index lists them; past this, only counted. */
const UNLISTED_LOGGED = 1000;
/** Index keys remembered as read (each new InRelease makes new ones); past this the oldest are forgotten, costing a re-read at most. */
const INDEXES_REMEMBERED = 10_000;

type PoolPath = Extract<AptPath, { kind: 'pool' }>;

/**
 * One apt archive. Release files are mutable; everything else is stored under a key that names the
 * bytes it must be (by-hash by its name, an index by the hash its suite's `InRelease` gives, a pool
 * file by the hash its `Packages`/`Sources` entry gives). So a newer `InRelease` or a re-published
 * pool file makes a new key and a fresh fetch: an old copy can never be served for a new hash, which
 * is what apt reports as "Hash Sum mismatch".
 */
export class AptHandler implements Handler {
  private readonly pool: PoolIndex;
  private readonly releases = new Map<string, { etag: string; index: ReleaseIndex }>();
  /** Index keys already read into `pool`, and the reads under way (a pool miss waits for them). */
  private readonly indexed = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly unlistedLogged = new Set<string>();
  private readonly unlisted?: PluginCounter;
  private readonly poolEntries?: ReturnType<NonNullable<PluginContext['metrics']>['gauge']>;

  constructor(private readonly upstream: URL, private readonly log: Logger, context: PluginContext, poolLimit?: number) {
    this.pool = new PoolIndex(poolLimit);
    this.unlisted = context.metrics?.counter({ name: 'unlisted_pool_files_total', help: 'Pool files fetched that no index read so far lists: checked on their length only' });
    this.poolEntries = context.metrics?.gauge({ name: 'pool_entries', help: 'Pool files known from the indexes read (path to size and sha256)' });
  }

  canHandle(req: ArtifactRequest): Route | undefined {
    const path = parsePath(req.segments);
    switch (path?.kind) {
      case undefined: return undefined;
      case 'release': return { kind: 'cached', key: req.path, class: 'mutable' };
      case 'by-hash': case 'pool': return { kind: 'cached', key: req.path, class: 'immutable' };
      case 'index': case 'other': return { kind: 'cached', key: req.path, class: 'mutable' };
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const path = parsePath(req.segments);
    if (!path || route.kind !== 'cached') throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of an apt archive`);
    const url = this.upstream.href + req.rawPath;
    switch (path.kind) {
      case 'release':
        return path.file === 'Release.gpg' ? this.detachedSignature(req, route, path.suite, url, ctx) : ctx.pipeline.serve(req, route, { url });
      case 'other':
        return ctx.pipeline.serve(req, route, { url });
      case 'by-hash': {
        const response = await ctx.pipeline.serve(req, route, { url }, { verify: { kind: 'known', digests: [{ algorithm: path.algorithm, hex: path.hex }] } });
        if (req.method === 'GET' && response.status === 200) this.indexByHash(path.suite, path.hex, route, url, ctx);
        return response;
      }
      case 'index': return this.index(req, route, path.suite, path.file, url, ctx);
      case 'pool': return this.poolFile(req, path, url, ctx);
    }
  }

  /**
   * `Release.gpg` signs `Release`: it is stored per stored version of `Release`, so a signature
   * is never older (or newer) than the file apt checks it against. Reading `Release` first
   * revalidates it when its TTL is past.
   */
  private async detachedSignature(req: ArtifactRequest, route: CachedRoute, suite: string, url: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const key = `dists/${suite}/Release`;
    const release = await ctx.pipeline.load({ kind: 'cached', key, class: 'mutable' }, { url: this.upstream.href + key }).catch(() => undefined);
    if (!release) return ctx.pipeline.serve(req, route, { url });
    return ctx.pipeline.serve(req, { kind: 'cached', key: `${route.key}@${release.etag}`, class: 'mutable' }, { url });
  }

  /** An index named by its path: stored under the hash the suite's current `InRelease` lists for it. */
  private async index(req: ArtifactRequest, route: CachedRoute, suite: string, file: string, url: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const listed = (await this.release(suite, ctx))?.files.get(file);
    const digests = listed ? releaseDigests(listed) : [];
    if (!listed || digests.length === 0) return ctx.pipeline.serve(req, route, { url });
    const exact: CachedRoute = { kind: 'cached', key: `${route.key}@${digests[0]!.algorithm}:${digests[0]!.hex}`, class: 'immutable' };
    const verify = { kind: 'known', digests, size: listed.size } as const;
    const response = await ctx.pipeline.serve(req, exact, { url }, { verify });
    if (req.method === 'GET' && response.status === 200 && listsPool(file)) this.track(exact, url, file, ctx);
    return response;
  }

  private async poolFile(req: ArtifactRequest, path: PoolPath, url: string, ctx: FetchContext): Promise<ArtifactResponse> {
    if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    const entry = this.pool.get(path.file);
    if (!entry) {
      this.unlisted?.inc();
      if (this.unlistedLogged.size < UNLISTED_LOGGED && !this.unlistedLogged.has(path.file)) {
        this.unlistedLogged.add(path.file);
        this.log.warn({ file: path.file }, 'no index read through this cache lists this pool file; only its length is verified (run apt-get update through the cache first)');
      }
      return ctx.pipeline.serve(req, { kind: 'cached', key: path.file, class: 'immutable' }, { url });
    }
    const exact: CachedRoute = { kind: 'cached', key: `${path.file}@sha256:${entry.sha256}`, class: 'immutable' };
    // Also recorded under the bare path: after a restart the map is empty until the next update,
    // and the stored copy must still answer (offline too), checked as an unlisted file would be.
    return ctx.pipeline.serve(req, exact, { url }, {
      verify: { kind: 'known', digests: [{ algorithm: 'sha256', hex: entry.sha256 }], size: entry.size },
      alias: () => ({ kind: 'cached', key: path.file, class: 'immutable' }),
    });
  }

  /** A by-hash file just served: when the suite's Release names it as a Packages/Sources index, read its pool files. */
  private indexByHash(suite: string, hex: string, route: CachedRoute, url: string, ctx: FetchContext): void {
    if (this.indexed.has(route.key)) return;
    this.background(this.release(suite, ctx).then((release) => {
      const name = release?.byHash.get(hex);
      return name && listsPool(name) ? this.read(route, url, name, ctx) : undefined;
    }));
  }

  /** Reads one stored index into the pool map in the background, once per key. */
  private track(route: CachedRoute, url: string, name: string, ctx: FetchContext): void {
    if (!this.indexed.has(route.key)) this.background(this.read(route, url, name, ctx));
  }

  /** Work a pool miss must wait for: an index being read may list the file asked for. */
  private background(job: Promise<void>): void {
    const tracked = job.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async read(route: CachedRoute, url: string, name: string, ctx: FetchContext): Promise<void> {
    if (this.indexed.has(route.key)) return;
    this.indexed.add(route.key);
    if (this.indexed.size > INDEXES_REMEMBERED) this.indexed.delete(this.indexed.values().next().value!);
    const started = Date.now();
    try {
      const doc = await ctx.pipeline.load(route, { url }, { maxBytes: INDEX_BYTES });
      const count = await this.pool.add(doc.body, name);
      this.poolEntries?.set(this.pool.size);
      this.log.info({ index: route.key, files: count, ms: Date.now() - started, rssMiB: Math.round(process.memoryUsage().rss / 1048576) }, 'read the pool files an index lists');
    } catch (err) {
      this.indexed.delete(route.key);
      this.log.warn({ index: route.key, err: String(err) }, 'could not read an index; its pool files are checked on their length only');
    }
  }

  /** The hash table of a suite's `InRelease` (or `Release` when the archive is unsigned), parsed once per stored version. */
  private async release(suite: string, ctx: FetchContext): Promise<ReleaseIndex | undefined> {
    for (const file of ['InRelease', 'Release']) {
      const key = `dists/${suite}/${file}`;
      try {
        const doc = await ctx.pipeline.load({ kind: 'cached', key, class: 'mutable' }, { url: this.upstream.href + key });
        const known = this.releases.get(key);
        if (known?.etag === doc.etag) return known.index;
        const index = parseRelease(doc.body.toString('utf8'));
        this.releases.set(key, { etag: doc.etag, index });
        return index;
      } catch {
        continue;
      }
    }
    return undefined;
  }
}
