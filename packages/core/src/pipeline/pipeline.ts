import type { IncomingHttpHeaders } from 'node:http';
import { cfError, hasCode, isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import type {
  ArtifactRequest, ArtifactResponse, CacheStatus, CachedRoute, Entity, ExpectedDigest, LoadedDocument, MissDetails, Pipeline, ServeOptions, UpstreamRequest,
} from '../contract/index.js';
import type { RemoteConfig } from '../config/config.js';
import type { ArtifactId, MetadataStore, NewArtifactRecord } from '../metadata/metadata.js';
import type { Storage } from '../storage/storage.js';
import type { HotCache } from '../cache/cache.js';
import type { RemotePolicy, Classification } from '../policy/policy.js';
import type { UpstreamClient, UpstreamResponse } from '../upstream/client.js';
import { discardBody } from '../upstream/client.js';
import { redact } from '../util/redact.js';
import { upstreamStatusError } from '../upstream/outcome.js';
import { SingleFlight } from '../upstream/single-flight.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/logger.js';
import { Fill } from './fill.js';
import type { HotEntry, HotIndex } from './hot-index.js';
import type { AccessRecorder } from './access-recorder.js';
import type { ClusterLock } from './cluster-lock.js';

/** Upstream response headers kept with an object and replayed on hits, unless a plugin says otherwise. */
export const DEFAULT_KEPT_HEADERS = ['content-type', 'content-encoding', 'content-disposition', 'content-language'] as const;

/** The services every remote's pipeline shares (one per process). */
export interface PipelineServices {
  readonly storage: Storage;
  /** Local storage followers read from when `storage` cannot read back before commit. */
  readonly spool?: Storage;
  readonly metadata: MetadataStore;
  readonly cache: HotCache;
  /** One upstream fetch per key across replicas. */
  readonly lock: ClusterLock;
  readonly hot: HotIndex;
  readonly access: AccessRecorder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly flights: SingleFlight<Resolved>;
  /** Fills under way, each with a promise that settles once it is recorded (or has failed). */
  readonly fills: Map<Fill, Promise<unknown>>;
}

/** The state of a key once the pipeline has done what it must: a stored copy, or a fill under way. */
export type Resolved =
  | { readonly kind: 'stored'; readonly entry: HotEntry; readonly status: CacheStatus }
  | {
    readonly kind: 'fill'; readonly fill: Fill; readonly meta: UpstreamMeta; readonly recorded: Promise<HotEntry>;
    /** The copy this fill is replacing (a revalidation that got a new body): served if the fill fails in time. */
    readonly stale?: HotEntry;
  };

/** What is kept of the upstream response that filled an object. */
interface UpstreamMeta {
  readonly contentType?: string;
  readonly headers: Record<string, string>;
  readonly etag?: string;
  readonly lastModified?: string;
}

/**
 * The cache pipeline of one remote: policy, then the hot index / metadata / storage, then at most
 * one upstream fetch per key, streamed to every waiting client while it is verified and committed.
 * Stale documents are revalidated with the upstream's validators and served STALE when it fails.
 */
export class RemotePipeline implements Pipeline {
  constructor(
    private readonly remote: RemoteConfig,
    private readonly policy: RemotePolicy,
    private readonly client: UpstreamClient,
    private readonly services: PipelineServices,
  ) {}

  async serve(req: ArtifactRequest, route: CachedRoute, upstream: UpstreamRequest, options: ServeOptions = {}): Promise<ArtifactResponse> {
    this.policy.checkAllowed(req.path);
    const cls = this.policy.classify(req.path, route.class, route.ttl);
    const id = this.idOf(route);
    const resolved = await this.resolve(id, cls, upstream, options, req.method === 'HEAD' && !options.fillOnHead ? 'HEAD' : 'GET');
    if (resolved === 'head-miss') return this.headUpstream(id, upstream, options);
    if (options.fillOnHead && req.method === 'HEAD' && resolved.kind === 'fill') {
      // A HEAD that fills answers once the object is recorded (with its alias), so the request
      // that follows it (a GET, often by digest) finds it stored.
      const status = fillStatus(resolved.fill);
      return this.respond({ kind: 'stored', entry: await resolved.recorded, status });
    }
    const cacheStatus = resolved.kind === 'fill' ? fillStatus(resolved.fill) : resolved.status;
    if (resolved.kind === 'fill' && req.method === 'GET') {
      try {
        await this.verifiedIfSmall(resolved.fill);
      } catch (err) {
        // A new version whose download broke: the copy it was to replace is still good.
        if (!resolved.stale) throw err;
        return this.respond(this.failed(err, id, resolved.stale));
      }
    }
    return this.respond(resolved, cacheStatus);
  }

  /**
   * Holds a small miss until its bytes are verified, so a digest or length mismatch is a clean
   * 502 even for clients that do not check Content-Length (pip with urllib3 1.26 takes a body cut
   * one byte short as whole). A body larger than `verifyBeforeSend` streams at once.
   */
  private async verifiedIfSmall(fill: Fill): Promise<void> {
    const limit = this.remote.client.verifyBeforeSend;
    if (limit <= 0 || (fill.expect.size !== undefined && fill.expect.size > limit)) return;
    try {
      await fill.verifiedOrPast(limit);
    } catch (err) {
      throw withCacheStatus(isCacheForgeError(err) ? err : cfError('CF_ERR_UPSTREAM_UNAVAILABLE', String(err), { cause: err }), 'MISS');
    }
  }

  async load(route: CachedRoute, upstream: UpstreamRequest, options: ServeOptions & { maxBytes?: number } = {}): Promise<LoadedDocument> {
    this.policy.checkAllowed(route.key);
    const cls = this.policy.classify(route.key, route.class, route.ttl);
    const resolved = await this.resolve(this.idOf(route), cls, upstream, options, 'GET');
    if (resolved === 'head-miss') throw new Error('unreachable');
    let status = resolved.kind === 'stored' ? resolved.status : fillStatus(resolved.fill);
    let entry: HotEntry;
    if (resolved.kind === 'stored') entry = resolved.entry;
    else {
      try {
        entry = await resolved.recorded;
      } catch (err) {
        if (!resolved.stale) throw err;
        const fallback = this.failed(err, this.idOf(route), resolved.stale) as Extract<Resolved, { kind: 'stored' }>;
        entry = fallback.entry; status = fallback.status;
      }
    }
    const max = options.maxBytes ?? 64 * 1024 * 1024;
    if (entry.record.size > max) {
      throw cfError('CF_ERR_POLICY_TOO_LARGE', `${route.key} is ${entry.record.size} bytes, more than the ${max} a document may have`, { remote: this.remote.name, path: route.key });
    }
    const body = entry.body ?? await this.services.storage.read(entry.record.digest);
    return {
      body, cacheStatus: status, contentType: entry.record.contentType, etag: `"${entry.record.digest}"`,
      lastModified: lastModifiedOf(entry), headers: entry.record.headers,
    };
  }

  async passthrough(req: ArtifactRequest, upstream: UpstreamRequest): Promise<ArtifactResponse> {
    const forwarded: Record<string, string> = {};
    // A relayed body keeps its own framing and encoding (npm gzips its audit reports).
    const names = req.body ? ['accept', 'content-type', 'user-agent', 'content-encoding', 'content-length'] : ['accept', 'content-type', 'user-agent'];
    for (const name of names) {
      const value = req.headers[name];
      if (typeof value === 'string') forwarded[name] = value;
    }
    const url = toUrl(upstream.url);
    const response = await this.client.request({ url, method: req.method, headers: { ...forwarded, ...upstream.headers }, body: req.body });
    // A relay answers for the upstream: its 4xx (a 405 to an audit, a 401, a 429) is the client's
    // answer, body and headers included. Only a 5xx means the upstream failed, which is our 502.
    if (response.status >= 500) {
      discardBody(response);
      throw upstreamStatusError(response.status, response.headers, `${req.method} ${redact(url)}`, this.remote.name);
    }
    if (req.method === 'HEAD') discardBody(response);
    return { status: response.status, cacheStatus: 'BYPASS', headers: relayHeaders(response.headers), body: req.method === 'HEAD' ? undefined : response.body };
  }

  private idOf(route: CachedRoute): ArtifactId {
    return { remote: this.remote.name, key: route.key, variant: route.variant ?? '' };
  }

  /**
   * Brings a key to a servable state: joins a fill under way, serves a fresh stored copy,
   * revalidates a stale one, or starts a fill. `head-miss` means a HEAD for something not held.
   */
  private async resolve(id: ArtifactId, cls: Classification, upstream: UpstreamRequest, options: ServeOptions,
    method: 'GET' | 'HEAD'): Promise<Resolved | 'head-miss'> {
    const key = flightKey(id);
    const { flights, access } = this.services;
    const running = flights.get(key);
    if (running) {
      const result = await running;
      // A fill that already failed is over for a caller arriving now: it asks the upstream again.
      if (result.kind !== 'fill' || result.fill.state !== 'failed') return this.joined(result);
      flights.drop(key, running);
    }

    let entry = await this.lookup(id, key);
    if (entry && !entry.body && entry.record.size > this.services.hot.maxObjectBytes && !await this.services.storage.stat(entry.record.digest)) {
      // The blob was deleted under us (by hand): forget the record and fetch it again.
      this.services.log.warn({ remote: id.remote, key: id.key, digest: entry.record.digest }, 'stored blob vanished; refetching');
      await this.forgetRecord(id, key);
      entry = undefined;
    }
    if (entry) {
      if (cls.class === 'immutable' || await this.isFresh(entry, key, cls.ttl)) {
        access.record(id, key);
        await this.warmBody(entry, key);
        return { kind: 'stored', entry, status: 'HIT' };
      }
      const stale = entry;
      return this.joined(await flights.run(key, () => this.fetchLocked(id, key, cls, () => this.fetch(id, key, cls, upstream, options, stale)), holdUntil));
    }
    await this.checkNegative(key);
    if (method === 'HEAD') return 'head-miss';
    return this.joined(await flights.run(key, () => this.fetchLocked(id, key, cls, () => this.fetch(id, key, cls, upstream, options)), holdUntil));
  }

  /** Runs `fetch` under the key's cluster-wide lock, or serves what another replica committed meanwhile. */
  private fetchLocked(id: ArtifactId, key: string, cls: Classification, fetch: () => Promise<Resolved>): Promise<Resolved> {
    return this.services.lock.run<Resolved>(key, {
      fetch, holdUntil,
      recheck: async () => {
        await this.checkNegative(key); // the lock's last holder may have learnt the upstream has none
        const record = await this.services.metadata.getArtifact(id);
        if (!record || !await this.services.storage.stat(record.digest)) return undefined;
        const entry: HotEntry = { record, checkedAt: record.checkedAt };
        if (cls.class !== 'immutable' && !await this.isFresh(entry, key, cls.ttl)) return undefined;
        this.services.hot.set(key, entry);
        await this.warmBody(entry, key);
        return { kind: 'stored', entry, status: 'HIT' };
      },
    });
  }

  /** A result shared by several callers: a stored copy they joined is a hit for each of them. */
  private joined(result: Resolved): Resolved {
    if (result.kind === 'stored') this.services.access.record(result.entry.record, flightKey(result.entry.record));
    return result;
  }

  /** The record for `id`: from the hot index, else metadata (whose blob must still exist). */
  private async lookup(id: ArtifactId, key: string): Promise<HotEntry | undefined> {
    const { hot, metadata, storage } = this.services;
    const cached = hot.get(key);
    if (cached) return cached;
    const record = await metadata.getArtifact(id);
    if (!record) return undefined;
    if (!await storage.stat(record.digest)) {
      this.services.log.warn({ remote: id.remote, key: id.key, digest: record.digest }, 'metadata names a blob storage no longer has; refetching');
      await this.forgetRecord(id, key);
      return undefined;
    }
    const entry: HotEntry = { record, checkedAt: record.checkedAt };
    hot.set(key, entry);
    return entry;
  }

  /** Whether a mutable entry is within its TTL, here or (per the shared cache) on another replica. */
  private async isFresh(entry: HotEntry, key: string, ttl: number): Promise<boolean> {
    const now = Date.now();
    if (entry.checkedAt + ttl > now) return true;
    try {
      const checkedAt = await this.services.cache.get<number>(`checked:${key}`);
      if (checkedAt !== undefined && checkedAt > entry.checkedAt) {
        entry.checkedAt = checkedAt;
        return checkedAt + ttl > now;
      }
    } catch (err) {
      this.services.log.warn({ err, key }, 'hot cache unavailable; revalidating instead');
    }
    return false;
  }

  /** Reads a small blob into memory on its first hit, so later hits skip the disk. */
  private async warmBody(entry: HotEntry, key: string): Promise<void> {
    const { hot, storage } = this.services;
    if (entry.body || entry.record.size > hot.maxObjectBytes) return;
    try {
      hot.attachBody(key, await storage.read(entry.record.digest));
    } catch (err) {
      if (!hasCode(err, 'CF_ERR_STORAGE_NOT_FOUND')) throw err;
      await this.forgetRecord(entry.record, key);
      throw cfError('CF_ERR_STORAGE_NOT_FOUND', `blob of ${key} vanished from storage; the next request refetches it`, { cause: err });
    }
  }

  /** Drops a record from the hot index and metadata (its blob is gone, or upstream says it is). */
  private async forgetRecord(id: ArtifactId, key: string): Promise<void> {
    this.services.hot.delete(key);
    await this.services.metadata.deleteArtifact(id);
  }

  private async checkNegative(key: string): Promise<void> {
    if (this.policy.negativeTtl <= 0) return;
    const negative = await this.services.cache.get<number>(`neg:${key}`).catch(() => undefined);
    if (negative !== undefined) {
      throw cfError('CF_ERR_UPSTREAM_NOT_FOUND', 'not found upstream (remembered)', { remote: this.remote.name, headers: { 'x-cache-status': 'HIT' } });
    }
  }

  /**
   * The one upstream request for a key: conditional when a stale copy is held. 304 refreshes the
   * copy; 200 starts a fill; a failure serves the stale copy when there is one.
   */
  private async fetch(id: ArtifactId, key: string, cls: Classification, upstream: UpstreamRequest, options: ServeOptions,
    stale?: HotEntry): Promise<Resolved> {
    const { log } = this.services;
    let miss: MissDetails | undefined;
    try {
      miss = await options.resolveMiss?.();
    } catch (err) {
      if (isCacheForgeError(err) && err.code === 'CF_ERR_UPSTREAM_NOT_FOUND') throw withCacheStatus(err, 'MISS');
      return this.failed(err, id, stale);
    }
    if (miss?.digest) options = { ...options, digest: miss.digest };
    const headers: Record<string, string> = { ...upstream.headers };
    if (stale?.record.upstreamEtag) headers['if-none-match'] = stale.record.upstreamEtag;
    if (stale?.record.upstreamLastModified) headers['if-modified-since'] = stale.record.upstreamLastModified;
    const url = toUrl(miss?.url ?? upstream.url);
    const where = `GET ${redact(url)}`;
    const validator = options.headValidator;
    const known = validator ? stale?.record.headers[validator] : undefined;
    if (stale && validator && known) {
      let head: UpstreamResponse;
      try {
        head = await this.client.request({ url, method: 'HEAD', headers: upstream.headers });
      } catch (err) {
        return this.failed(err, id, stale);
      }
      discardBody(head);
      if (head.status === 200 && head.headers[validator] === known) return this.refreshed(id, key, cls, stale);
      // Changed (or gone: the GET below forgets it); any other answer is a fault.
      if (head.status !== 200 && head.status !== 404 && head.status !== 410) {
        return this.failed(upstreamStatusError(head.status, head.headers, `HEAD ${redact(url)}`, this.remote.name), id, stale);
      }
    }
    let response: UpstreamResponse;
    try {
      response = await this.client.request({ url, method: 'GET', headers });
    } catch (err) {
      return this.failed(err, id, stale);
    }
    if (response.status === 304 && stale) {
      discardBody(response);
      return this.refreshed(id, key, cls, stale);
    }
    if (response.status !== 200) {
      discardBody(response);
      const error = upstreamStatusError(response.status, response.headers, where, this.remote.name);
      if (error.code === 'CF_ERR_UPSTREAM_NOT_FOUND') {
        if (this.policy.negativeTtl > 0 && options.rememberNotFound !== false) {
          await this.services.cache.set(`neg:${key}`, Date.now(), this.policy.negativeTtl).catch(() => undefined);
        }
        if (stale) await this.forgetRecord(id, key);
        throw withCacheStatus(error, 'MISS');
      }
      return this.failed(error, id, stale);
    }
    return this.startFill(id, key, cls, response, options, where, stale);
  }

  /** The upstream confirmed the stale copy: it is fresh again for a TTL, here and on other replicas. */
  private async refreshed(id: ArtifactId, key: string, cls: Classification, stale: HotEntry): Promise<Resolved> {
    const now = Date.now();
    stale.checkedAt = now;
    await this.services.metadata.markChecked(id, now);
    await this.services.cache.set(`checked:${key}`, now, cls.ttl).catch((err: unknown) => this.services.log.warn({ err, key }, 'hot cache write failed'));
    await this.warmBody(stale, key);
    return { kind: 'stored', entry: stale, status: 'REVALIDATED' };
  }

  /** An upstream failure: the stale copy when there is one (marked), else the error. */
  private failed(err: unknown, id: ArtifactId, stale?: HotEntry): Resolved {
    const coded = isCacheForgeError(err) ? err : cfError('CF_ERR_UPSTREAM_UNAVAILABLE', String(err), { cause: err });
    // A known outage (marked down, or offline by config) is no news on every request.
    const level = coded.code === 'CF_ERR_UPSTREAM_DOWN' || coded.code === 'CF_ERR_UPSTREAM_OFFLINE' ? 'debug' : 'warn';
    this.services.log[level]({ remote: id.remote, path: id.key, code: coded.code, reason: coded.message, servedStale: !!stale }, 'upstream fault');
    if (stale && coded.code !== 'CF_ERR_UPSTREAM_REDIRECT') return { kind: 'stored', entry: stale, status: 'STALE' };
    throw withCacheStatus(coded, 'MISS');
  }

  private async startFill(id: ArtifactId, key: string, cls: Classification, response: UpstreamResponse, options: ServeOptions, where: string,
    stale?: HotEntry): Promise<Resolved> {
    const { storage, spool, hot, metrics, fills, log } = this.services;
    const lengthHeader = response.headers['content-length'];
    const size = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    if (size !== undefined) {
      try { this.policy.checkSize(size, id.key); } catch (err) { discardBody(response); throw err; }
    }
    const digest = options.digest ?? digestFromHeader(response.headers, options.digestHeader);
    const writer = await storage.writer();
    const spoolWriter = storage.capabilities.readWhileWriting ? undefined : await spool?.writer();
    const fill = new Fill(response.body, writer, spoolWriter, {
      size, digest, maxSize: this.policy.maxSize, keepInMemory: hot.maxObjectBytes, describe: where,
      tooLarge: (n) => { try { this.policy.checkSize(n, id.key); } catch (err) { return err as Error; } return new Error('unreachable'); },
      openCommitted: (digest) => storage.openReader(digest),
    });
    metrics.inflight.inc({ remote: id.remote });
    const meta = keptMeta(response.headers, options.keepHeaders ?? DEFAULT_KEPT_HEADERS);
    const recorded = fill.done.then(async (blob) => {
      const now = Date.now();
      const record: NewArtifactRecord = {
        ...id, digest: blob.digest, size: blob.size, contentType: meta.contentType, headers: meta.headers,
        upstreamEtag: meta.etag, upstreamLastModified: meta.lastModified, class: cls.class, fetchedAt: now, checkedAt: now,
      };
      await this.services.metadata.putArtifact(record);
      if (options.alias) await this.recordAlias(record, options.alias(blob.digest));
      const entry: HotEntry = { record: { ...record, hits: 0, lastAccess: 0 }, checkedAt: now, body: fill.memory };
      hot.set(key, entry);
      return entry;
    });
    const settled = recorded.catch((err: unknown) => {
      const coded = isCacheForgeError(err) ? err : undefined;
      log.warn({ remote: id.remote, path: id.key, code: coded?.code, reason: (err as Error).message }, 'fill failed; nothing was stored');
    }).finally(() => {
      fills.delete(fill);
      metrics.inflight.dec({ remote: id.remote });
      metrics.bytesFetched.inc({ remote: id.remote }, fill.flushed);
    });
    fills.set(fill, settled);
    return { kind: 'fill', fill, meta, recorded, stale };
  }

  /** Records a stored object under a second, content-named key (see `ServeOptions.alias`). */
  private async recordAlias(record: NewArtifactRecord, alias: CachedRoute): Promise<void> {
    const id = this.idOf(alias);
    if (id.key === record.key && id.variant === record.variant) return;
    this.services.hot.delete(flightKey(id));
    await this.services.metadata.putArtifact({ ...record, key: id.key, variant: id.variant, class: 'immutable' });
  }

  private async headUpstream(id: ArtifactId, upstream: UpstreamRequest, options: ServeOptions): Promise<ArtifactResponse> {
    const key = flightKey(id);
    let response: UpstreamResponse;
    let url: URL;
    try {
      url = toUrl((await options.resolveMiss?.())?.url ?? upstream.url);
      response = await this.client.request({ url, method: 'HEAD', headers: upstream.headers });
    } catch (err) {
      return this.failed(err, id) as never;
    }
    discardBody(response);
    if (response.status !== 200) {
      const error = upstreamStatusError(response.status, response.headers, `HEAD ${redact(url)}`, this.remote.name);
      if (error.code === 'CF_ERR_UPSTREAM_NOT_FOUND' && this.policy.negativeTtl > 0 && options.rememberNotFound !== false) {
        await this.services.cache.set(`neg:${key}`, Date.now(), this.policy.negativeTtl).catch(() => undefined);
      }
      throw withCacheStatus(error, 'MISS');
    }
    const meta = keptMeta(response.headers, options.keepHeaders ?? DEFAULT_KEPT_HEADERS);
    const length = response.headers['content-length'];
    const headers: Record<string, string> = { ...meta.headers };
    if (length && /^\d+$/.test(length)) headers['content-length'] = length;
    return { status: 200, cacheStatus: 'MISS', headers };
  }

  private respond(resolved: Resolved, fillCacheStatus?: CacheStatus): ArtifactResponse {
    if (resolved.kind === 'stored') {
      const { entry, status } = resolved;
      const record = entry.record;
      const { storage } = this.services;
      const forget = (err: unknown): never => {
        // The blob went away under us (deleted by hand): drop the record so the next request refetches.
        if (hasCode(err, 'CF_ERR_STORAGE_NOT_FOUND')) void this.forgetRecord(record, flightKey(record)).catch(() => undefined);
        throw err;
      };
      const lastModified = entry.lastModified ??= lastModifiedOf(entry);
      const entity: Entity = {
        size: record.size, contentType: record.contentType, etag: `"${record.digest}"`, lastModified,
        bytes: entry.body,
        headerBlock: entry.body ? entry.headerBlock ??= {
          ...record.headers, 'content-type': record.contentType ?? 'application/octet-stream', etag: `"${record.digest}"`,
          'last-modified': lastModified.toUTCString(), 'accept-ranges': 'bytes', 'X-Cache-Status': 'HIT', 'content-length': String(entry.body.length),
        } : undefined,
        open: (range) => storage.open(record.digest, range).catch(forget),
        openReader: () => storage.openReader(record.digest).catch(forget),
        locate: storage.locate && !entry.body ? () => storage.locate!(record.digest) : undefined,
      };
      return { status: 200, cacheStatus: status, headers: record.headers, entity };
    }
    const { fill, meta } = resolved;
    const entity: Entity = {
      size: fill.size, contentType: meta.contentType, etag: fill.digest ? `"${fill.digest}"` : undefined,
      lastModified: meta.lastModified ? new Date(meta.lastModified) : undefined,
      open: (range) => fill.open(range),
    };
    const cacheStatus = fillCacheStatus ?? fillStatus(fill);
    if (cacheStatus === 'HIT') resolved.recorded.then((entry) => this.services.access.record(entry.record, flightKey(entry.record)), () => undefined);
    return { status: 200, cacheStatus, headers: meta.headers, entity };
  }
}

/** A fill whose bytes are all in and verified is, for a client joining it now, a stored copy. */
function fillStatus(fill: Fill): CacheStatus {
  return fill.state === 'verified' || fill.state === 'committed' ? 'HIT' : 'MISS';
}

/** The digest an upstream header announces (`sha256:<hex>`), when the plugin named such a header. */
function digestFromHeader(headers: IncomingHttpHeaders, name: string | undefined): ExpectedDigest | undefined {
  const value = name ? headers[name] : undefined;
  const match = typeof value === 'string' ? /^(sha256|sha512):([a-f0-9]+)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  const algorithm = match[1] as 'sha256' | 'sha512';
  if (match[2]!.length !== (algorithm === 'sha256' ? 64 : 128)) return undefined;
  return { algorithm, hex: match[2]! };
}

function toUrl(url: URL | string): URL {
  return typeof url === 'string' ? new URL(url) : url;
}

/** A flight stays registered until its fill is committed and recorded, so late callers join it. */
function holdUntil(result: Resolved): Promise<unknown> {
  return result.kind === 'fill' ? result.recorded : Promise.resolve();
}

/** The key of an artifact across the process (hot index, flights, hot cache). */
export function flightKey(id: ArtifactId): string {
  return `${id.remote}\u0000${id.key}\u0000${id.variant}`;
}

function lastModifiedOf(entry: HotEntry): Date {
  const upstream = entry.record.upstreamLastModified ? new Date(entry.record.upstreamLastModified) : undefined;
  return upstream && !Number.isNaN(upstream.getTime()) ? upstream : new Date(entry.record.fetchedAt);
}

function keptMeta(headers: IncomingHttpHeaders, keep: readonly string[]): UpstreamMeta {
  const kept: Record<string, string> = {};
  for (const name of keep) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  const etag = typeof headers.etag === 'string' ? headers.etag : undefined;
  const lastModified = typeof headers['last-modified'] === 'string' ? headers['last-modified'] : undefined;
  return { contentType: kept['content-type'], headers: kept, etag, lastModified };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'set-cookie']);

function relayHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function withCacheStatus(err: CacheForgeError, status: CacheStatus): CacheForgeError {
  if (err.headers?.['x-cache-status']) return err;
  (err as { headers?: Record<string, string> }).headers = { ...err.headers, 'x-cache-status': status };
  return err;
}

