import { cfError } from '../errors/errors.js';
import type { HotCache } from '../cache/cache.js';
import type { Clock } from '../util/clock.js';
import type { Job } from './job.js';

/**
 * Upstream 404s remembered for a while (`ttl.negative`), in the hot cache so replicas share them:
 * a client probing many paths that do not exist (go's module prefixes, pip's mirrors) costs the
 * upstream one request per path and TTL. A format forgets them by key prefix when a document it
 * trusts says something new exists there.
 */
export class NegativeCache {
  constructor(private readonly remote: string, private readonly ttl: number, private readonly cache: HotCache, private readonly clock: Clock) {}

  /** @throws CF_ERR_UPSTREAM_NOT_FOUND when the upstream said, within the TTL, that it has none. */
  async check(job: Job): Promise<void> {
    if (this.ttl <= 0) return;
    const at = await this.cache.get<number>(`neg:${job.key}`).catch(() => undefined);
    if (at === undefined || this.clock.now() - at >= this.ttl || await this.forgotten(job.id.key, at)) return;
    throw cfError('CF_ERR_UPSTREAM_NOT_FOUND', 'not found upstream (remembered)', { remote: this.remote, headers: { 'x-cache-status': 'HIT' } });
  }

  /** Remembers that the upstream has nothing for the job (unless its route says not to). */
  async remember(job: Job): Promise<void> {
    if (this.ttl <= 0 || job.options.rememberNotFound === false) return;
    await this.cache.set(`neg:${job.key}`, this.clock.now(), this.ttl).catch(() => undefined);
  }

  /** Forgets what was remembered for keys starting with `prefix` (cut at a `/`, or a whole key). */
  async forget(prefix: string): Promise<void> {
    if (this.ttl <= 0) return;
    await this.cache.set(this.forgetKey(prefix), this.clock.now(), this.ttl);
  }

  /** Whether a forget at or after `at` covers `key`: the key itself, or any of its folders. */
  private async forgotten(key: string, at: number): Promise<boolean> {
    const prefixes = [key];
    for (let slash = key.indexOf('/'); slash !== -1; slash = key.indexOf('/', slash + 1)) prefixes.push(key.slice(0, slash + 1));
    prefixes.push('');
    const forgets = await Promise.all(prefixes.map((p) => this.cache.get<number>(this.forgetKey(p)).catch(() => undefined)));
    return forgets.some((when) => when !== undefined && when >= at);
  }

  private forgetKey(prefix: string): string {
    return `negforget:${this.remote}\u0000${prefix}`;
  }
}
