import { Counter, Gauge } from 'prom-client';
import { hasCode } from '../../errors/errors.js';
import type { HotCache } from '../../cache/cache.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Logger } from '../../util/logger.js';
import type { Clock } from '../../util/clock.js';
import type { KeyLock, LockedWork } from './key-lock.js';

/** `cache.lock` settings. */
export interface ClusterLockOptions {
  /** How long a lock outlives a holder that stopped renewing it (ms). */
  readonly ttl: number;
  /** How long to wait for another replica's fill before fetching anyway (ms). */
  readonly wait: number;
}

/**
 * Streaming a fill across replicas (`cluster.secret`): the holder advertises its fill, a waiter
 * streams it instead of waiting for the commit (see pipeline/replica/).
 */
export interface FillSharing<T> {
  /** Advertises the holder's fetched result to the other replicas while it runs. */
  publish(key: string, result: T): void;
  /** The holder's fill to stream, when one is advertised and reachable; `again` runs the lock anew (a takeover). */
  follow(key: string, work: LockedWork<T>, again: () => Promise<T>): Promise<T | undefined>;
}

const POLL_START_MS = 25;
const POLL_MAX_MS = 500;

/**
 * One upstream fetch per key across all replicas. The in-process single flight already lets one
 * caller per process through; this takes the key's lock in the shared hot cache for that caller.
 * A replica that finds the lock held waits (polling, bounded by `wait`) for the holder to finish,
 * then serves what it committed; if nothing was committed (the holder failed or died, its lock
 * expired) it takes the lock and fetches itself. With `sharing` (`cluster.secret`), a waiter
 * streams the holder's fill while it runs instead of waiting for the commit.
 *
 * A hot cache that fails is never taken for "no lock held": it degrades to per-process locking
 * (duplicate fetches across replicas become possible, nothing else changes) with a warning and
 * the `cacheforge_lock_degraded` gauge at 1, and returns to shared locking on the first success.
 */
export class ClusterLock<T> implements KeyLock<T> {
  private degraded = false;
  private readonly degradedGauge: Gauge;
  private readonly fallbacks: Counter<'reason'>;

  constructor(private readonly cache: HotCache, metrics: Metrics, private readonly log: Logger, private readonly options: ClusterLockOptions,
    private readonly clock: Clock, private readonly sharing?: FillSharing<T>) {
    this.degradedGauge = new Gauge({
      name: 'cacheforge_lock_degraded', help: '1 while the shared hot cache is unreachable and fills are locked per process only.',
      registers: [metrics.registry], aggregator: 'max',
    });
    this.fallbacks = new Counter({
      name: 'cacheforge_lock_fallbacks_total', help: 'Fills run without the shared lock, by reason (cache_down, wait_timeout).',
      labelNames: ['reason'] as const, registers: [metrics.registry],
    });
  }

  /** Whether locking is per process right now (the shared cache failed). */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /** Another replica's run cannot be joined in this process: it is waited for in `run`. */
  joinable(): undefined {
    return undefined;
  }

  async run(key: string, run: LockedWork<T>): Promise<T> {
    const deadline = this.clock.now() + this.options.wait;
    let pause = POLL_START_MS;
    for (;;) {
      const release = await this.tryAcquire(key);
      if (release) {
        try {
          const stored = await run.recheck();
          if (stored !== undefined) { await release(); return stored; }
          const result = await run.fetch();
          this.sharing?.publish(key, result);
          void run.holdUntil(result).catch(() => undefined).finally(() => release());
          return result;
        } catch (err) {
          await release();
          throw err;
        }
      }
      const followed = await this.sharing?.follow(key, run, () => this.run(key, run));
      if (followed !== undefined) return followed;
      if (this.clock.now() >= deadline) {
        this.fallbacks.inc({ reason: 'wait_timeout' });
        this.log.warn({ key: printable(key), waitedMs: this.options.wait }, 'another replica holds the fill lock too long; fetching without it');
        return (await run.recheck()) ?? run.fetch();
      }
      await this.clock.sleep(Math.min(pause, Math.max(1, deadline - this.clock.now())));
      pause = Math.min(pause * 2, POLL_MAX_MS);
    }
  }

  /** The shared lock's release, `undefined` when another replica holds it; a local no-op when degraded. */
  private async tryAcquire(key: string): Promise<(() => Promise<void>) | undefined> {
    try {
      const release = await this.cache.tryLock(`fill:${key}`, this.options.ttl);
      if (this.degraded) {
        this.degraded = false;
        this.degradedGauge.set(0);
        this.log.info({ cache: this.cache.name }, 'hot cache reachable again; fill locks are shared across replicas again');
      }
      return release;
    } catch (err) {
      if (!hasCode(err, 'CF_ERR_CACHE_BACKEND')) throw err;
      if (!this.degraded) {
        this.degraded = true;
        this.degradedGauge.set(1);
        this.log.warn({ cache: this.cache.name, reason: (err as Error).message }, 'hot cache unreachable; fill locks are per process until it is back');
      }
      this.fallbacks.inc({ reason: 'cache_down' });
      return async () => undefined;
    }
  }
}

function printable(key: string): string {
  return key.replaceAll('\u0000', ' ');
}
