import { hasCode } from '../errors/errors.js';
import type {
  ArtifactRequest, ArtifactResponse, CachedRoute, Expectation, LoadedDocument, Pipeline, ServeOptions, UpstreamRequest,
} from '../contract/index.js';
import type { RemoteConfig } from '../config/config.js';
import type { RemotePolicy } from '../policy/policy.js';
import type { UpstreamClient, UpstreamResponse } from '../upstream/client.js';
import { discardBody } from '../upstream/client.js';
import { upstreamStatusError } from '../upstream/outcome.js';
import { cfError } from '../errors/errors.js';
import { redact } from '../util/redact.js';
import type { PipelineServices } from './services.js';
import type { LockedWork } from './lock/key-lock.js';
import { Lookup } from './lookup/lookup.js';
import { NegativeCache } from './negative-cache.js';
import { Revalidation } from './revalidate.js';
import { FillStage } from './fill/fill-stage.js';
import { keptMeta, Recorder } from './fill/record.js';
import { Responder } from './respond/respond.js';
import { relay } from './respond/passthrough.js';
import { Job } from './job.js';
import { latest, withCacheStatus, type Resolved } from './resolved.js';

/** The largest document `load` reads whole unless the caller says otherwise. */
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/**
 * The cache pipeline of one remote, as stages: look the key up (hot index, metadata, storage);
 * hold its lock (one upstream fetch per key in the process and across replicas); revalidate a
 * stale copy; fill (download, verify, commit, record); respond. Each stage is its own module; this
 * class only puts them in order.
 */
export class RemotePipeline implements Pipeline {
  private readonly lookup: Lookup;
  private readonly negative: NegativeCache;
  private readonly revalidation: Revalidation;
  private readonly fill: FillStage;
  private readonly responder: Responder;

  constructor(private readonly remote: RemoteConfig, private readonly policy: RemotePolicy, private readonly client: UpstreamClient,
    private readonly services: PipelineServices) {
    const s = services;
    this.lookup = new Lookup(s);
    this.negative = new NegativeCache(remote.name, policy.negativeTtl, s.cache, s.clock);
    this.revalidation = new Revalidation(remote.name, client, this.lookup, s);
    this.fill = new FillStage(remote.name, policy, client, new Recorder(s.metadata, s.hot, s.purges && { log: s.purges, storage: s.storage, logger: s.log }), (...args) => this.load(...args), s);
    this.responder = new Responder(s.storage, this.lookup, this.revalidation, remote.client.verifyBeforeSend);
  }

  async serve(req: ArtifactRequest, route: CachedRoute, upstream: UpstreamRequest, options: ServeOptions = {}): Promise<ArtifactResponse> {
    const job = this.job(req.path, route, upstream, options);
    const head = req.method === 'HEAD';
    const resolved = await this.resolve(job, head && !options.fillOnHead ? 'HEAD' : 'GET');
    if (!resolved) return this.headMiss(job);
    return this.responder.serve(job, resolved, head ? 'HEAD' : 'GET');
  }

  async load(route: CachedRoute, upstream: UpstreamRequest, options: ServeOptions & { maxBytes?: number } = {}): Promise<LoadedDocument> {
    const job = this.job(route.key, route, upstream, options);
    const resolved = (await this.resolve(job, 'GET'))!;
    const { entry, status } = resolved.kind === 'stored' ? resolved : await this.responder.recorded(job, resolved);
    const max = options.maxBytes ?? MAX_DOCUMENT_BYTES;
    if (entry.record.size > max) {
      throw cfError('CF_ERR_POLICY_TOO_LARGE', `${route.key} is ${entry.record.size} bytes, more than the ${max} a document may have`, { remote: this.remote.name, path: route.key });
    }
    const body = entry.body ?? await this.services.storage.read(entry.record.digest);
    const { entity } = this.responder.stored({ kind: 'stored', entry, status });
    return { body, cacheStatus: status, contentType: entity!.contentType, etag: entity!.etag!, lastModified: entity!.lastModified, headers: entry.record.headers };
  }

  passthrough(req: ArtifactRequest, upstream: UpstreamRequest): Promise<ArtifactResponse> {
    return relay(this.client, this.remote.name, req, upstream);
  }

  forgetNotFound(prefix: string): Promise<void> {
    return this.negative.forget(prefix);
  }

  private job(path: string, route: CachedRoute, upstream: UpstreamRequest, options: ServeOptions): Job {
    this.policy.checkAllowed(path);
    return new Job(this.remote.name, route, this.policy.classify(path, route.class, route.ttl), upstream, options);
  }

  /**
   * Brings the key to a servable state: joins a run under way, serves a fresh stored copy, or runs
   * the upstream fetch under the key's lock. `undefined`: a HEAD for something not held.
   */
  private async resolve(job: Job, method: 'GET' | 'HEAD'): Promise<Resolved | undefined> {
    const running = this.services.lock.joinable(job.key);
    if (running) {
      const result = await latest(await running);
      if (!isOver(result)) return this.joined(job, result);
    }
    const entry = await this.lookup.find(job);
    // An immutable entry is servable as it is: no await for the answer.
    if (entry && (job.cls.class === 'immutable' || await this.lookup.servable(job, entry))) return this.lookup.hit(job, entry);
    if (!entry) {
      await this.negative.check(job);
      if (method === 'HEAD') return undefined;
    }
    job.stale = entry;
    return this.joined(job, await latest(await this.services.lock.run(job.key, this.locked(job))));
  }

  /** What the key's holder does: look once more (another replica may have filled it), else fetch. */
  private locked(job: Job): LockedWork<Resolved> {
    return {
      recheck: async () => {
        await this.negative.check(job); // the lock's last holder may have learnt the upstream has none
        return this.lookup.recheck(job);
      },
      fetch: () => this.fetch(job),
      holdUntil: (result) => result.kind === 'fill' ? result.recorded : Promise.resolve(),
      isOver,
    };
  }

  /** A result shared by several callers: a stored copy they joined is a hit for each of them. */
  private joined(job: Job, result: Resolved): Resolved {
    if (result.kind === 'stored') this.lookup.joined(job.id, job.key);
    return result;
  }

  /**
   * The one upstream request for a key: conditional when a stale copy is held. 304 refreshes the
   * copy; 200 starts a fill; 404 is remembered; a failure serves the stale copy when there is one.
   */
  private async fetch(job: Job): Promise<Resolved> {
    const stale = job.stale;
    let expectation: Expectation;
    try {
      expectation = await this.fill.expectation(job);
    } catch (err) {
      if (hasCode(err, 'CF_ERR_UPSTREAM_NOT_FOUND')) throw withCacheStatus(err, 'MISS');
      return this.revalidation.fallback(err, job);
    }
    const url = this.fill.url(job, expectation);
    const where = `GET ${redact(url)}`;
    let response: UpstreamResponse;
    try {
      const kept = stale && await this.revalidation.byHead(job, stale, url);
      if (kept) return kept;
      response = await this.client.request({ url, method: 'GET', headers: { ...job.upstream.headers, ...this.revalidation.conditions(stale) } });
    } catch (err) {
      return this.revalidation.fallback(err, job);
    }
    if (response.status === 304 && stale) {
      discardBody(response);
      return this.revalidation.confirmed(job, stale);
    }
    if (response.status !== 200) {
      discardBody(response);
      const error = upstreamStatusError(response.status, response.headers, where, this.remote.name);
      if (error.code !== 'CF_ERR_UPSTREAM_NOT_FOUND') return this.revalidation.fallback(error, job);
      await this.negative.remember(job);
      if (stale) await this.lookup.forget(job.id, job.key);
      throw withCacheStatus(error, 'MISS');
    }
    return this.fill.start(job, response, expectation, where);
  }

  /** A HEAD for an object not held is relayed as a HEAD: nothing is fetched or stored. */
  private async headMiss(job: Job): Promise<ArtifactResponse> {
    let response: UpstreamResponse;
    let url: URL;
    try {
      url = this.fill.url(job, await this.fill.expectation(job));
      response = await this.client.request({ url, method: 'HEAD', headers: job.upstream.headers });
    } catch (err) {
      return this.responder.stored(this.revalidation.fallback(err, job)); // no stale copy: it throws
    }
    discardBody(response);
    if (response.status !== 200) {
      const error = upstreamStatusError(response.status, response.headers, `HEAD ${redact(url)}`, this.remote.name);
      if (error.code === 'CF_ERR_UPSTREAM_NOT_FOUND') await this.negative.remember(job);
      throw withCacheStatus(error, 'MISS');
    }
    const headers: Record<string, string> = { ...keptMeta(response.headers, job.options.keepHeaders).headers };
    const length = response.headers['content-length'];
    if (length && /^\d+$/.test(length)) headers['content-length'] = length;
    return { status: 200, cacheStatus: 'MISS', headers };
  }
}

/** A joined result that can serve no one new: a fill that failed and will not be retried. */
function isOver(result: Resolved): boolean {
  return result.kind === 'fill' && result.fill.state === 'failed' && result.over;
}
