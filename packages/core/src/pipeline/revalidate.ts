import { isCacheForgeError, cfError } from '../errors/errors.js';
import type { MetadataStore } from '../metadata/metadata.js';
import type { HotCache } from '../cache/cache.js';
import type { UpstreamClient } from '../upstream/client.js';
import { discardBody } from '../upstream/client.js';
import { upstreamStatusError } from '../upstream/outcome.js';
import { redact } from '../util/redact.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import type { Job } from './job.js';
import type { Lookup } from './lookup/lookup.js';
import type { HotEntry } from './lookup/hot-index.js';
import { withCacheStatus, type Stored } from './resolved.js';

/**
 * The stage that asks the upstream whether a stale copy is still current, with the validators it
 * gave (ETag, Last-Modified) or a header that names the content (a HEAD, cheaper than a GET on
 * upstreams that count GETs), and that falls back to the stale copy when the upstream fails.
 */
export class Revalidation {
  constructor(
    private readonly remote: string,
    private readonly client: UpstreamClient,
    private readonly lookup: Lookup,
    private readonly s: { readonly metadata: MetadataStore; readonly cache: HotCache; readonly log: Logger; readonly clock: Clock },
  ) {}

  /** The conditional headers of the GET that revalidates `stale`. */
  conditions(stale: HotEntry | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    if (stale?.record.upstreamEtag) headers['if-none-match'] = stale.record.upstreamEtag;
    if (stale?.record.upstreamLastModified) headers['if-modified-since'] = stale.record.upstreamLastModified;
    return headers;
  }

  /**
   * With the route's `headValidator`: a HEAD whose header still names the stored content confirms
   * the stale copy. `undefined` when a GET must follow (changed, gone, or no validator known).
   */
  async byHead(job: Job, stale: HotEntry, url: URL): Promise<Stored | undefined> {
    const validator = job.options.headValidator;
    const known = validator ? stale.record.headers[validator] : undefined;
    if (!validator || !known) return undefined;
    const head = await this.client.request({ url, method: 'HEAD', headers: job.upstream.headers });
    discardBody(head);
    if (head.status === 200 && head.headers[validator] === known) return this.confirmed(job, stale);
    // Changed (or gone: the GET that follows forgets it); any other answer is a fault.
    if (head.status !== 200 && head.status !== 404 && head.status !== 410) {
      throw upstreamStatusError(head.status, head.headers, `HEAD ${redact(url)}`, this.remote);
    }
    return undefined;
  }

  /** The upstream confirmed the stale copy: it is fresh again for a TTL, here and on other replicas. */
  async confirmed(job: Job, stale: HotEntry): Promise<Stored> {
    const now = this.s.clock.now();
    stale.checkedAt = now;
    await this.s.metadata.markChecked(job.id, now);
    await this.s.cache.set(`checked:${job.key}`, now, job.cls.ttl).catch((err: unknown) => this.s.log.warn({ err, key: job.key }, 'hot cache write failed'));
    await this.lookup.warm(stale, job.key);
    return { kind: 'stored', entry: stale, status: 'REVALIDATED' };
  }

  /** An upstream failure: the stale copy when there is one (marked STALE), else the error. */
  fallback(err: unknown, job: Job, stale = job.stale): Stored {
    const coded = isCacheForgeError(err) ? err : cfError('CF_ERR_UPSTREAM_UNAVAILABLE', String(err), { cause: err });
    // A known outage (marked down, or offline by config) is no news on every request.
    const level = coded.code === 'CF_ERR_UPSTREAM_DOWN' || coded.code === 'CF_ERR_UPSTREAM_OFFLINE' ? 'debug' : 'warn';
    this.s.log[level]({ remote: job.id.remote, path: job.path, code: coded.code, reason: coded.message, servedStale: !!stale }, 'upstream fault');
    if (stale && coded.code !== 'CF_ERR_UPSTREAM_REDIRECT') return { kind: 'stored', entry: stale, status: 'STALE' };
    throw withCacheStatus(coded, 'MISS');
  }
}
