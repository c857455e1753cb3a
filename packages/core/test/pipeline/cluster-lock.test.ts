import { expect } from 'chai';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';
import { systemClock } from '../../src/util/clock.js';
import { ClusterLock } from '../../src/pipeline/lock/cluster-lock.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createLogger } from '../../src/util/logger.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { waitFor } from '../../src/testing/wait.js';

/** The cluster-wide fill lock, on a cache every "replica" here shares (one memory cache). */
describe('ClusterLock', () => {
  const log = createLogger('silent');
  const counter = async (metrics: Metrics, reason: string) =>
    (await metrics.registry.getSingleMetric('cacheforge_lock_fallbacks_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it('a waiter serves what the holder committed instead of fetching', async () => {
    const cache = new KeyvCache();
    const holder = new ClusterLock<string>(cache, new Metrics(), log, { ttl: 5000, wait: 5000 }, systemClock);
    // The waiter polls on a clock of its own, so the test sees it waiting and wakes it.
    const clock = new ManualClock();
    const waiter = new ClusterLock<string>(cache, new Metrics(), log, { ttl: 5000, wait: 5000 }, clock);
    let stored: string | undefined;
    let fetches = 0;
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => { commit = resolve; });
    const first = await holder.run('k', {
      recheck: async () => stored, fetch: async () => { fetches += 1; return 'fetched'; },
      holdUntil: async () => { await committed; stored = 'from storage'; },
    });
    expect(first).to.equal('fetched');
    const second = waiter.run('k', { recheck: async () => stored, fetch: async () => { fetches += 1; return 'fetched again'; }, holdUntil: async () => undefined });
    await waitFor('the waiter to find the lock held and wait', () => clock.pending === 1);
    commit();
    // The holder lets go once its work is committed; the waiter's next poll finds what it stored.
    await waitFor('the holder to let go of the lock', async () => {
      const probe = await cache.tryLock('fill:k', 1000);
      await probe?.();
      return probe !== undefined;
    });
    clock.advance(1000);
    expect(await second).to.equal('from storage');
    expect(fetches).to.equal(1);
  });

  it('a waiter fetches itself after `wait` when the holder keeps the lock, and counts it', async () => {
    const cache = new KeyvCache();
    await cache.tryLock('fill:k', 60_000); // a holder that never finishes
    const metrics = new Metrics();
    const lock = new ClusterLock<string>(cache, metrics, log, { ttl: 60_000, wait: 300 }, systemClock);
    const started = Date.now();
    const result = await lock.run('k', { recheck: async () => undefined, fetch: async () => 'fetched', holdUntil: async () => undefined });
    expect(result).to.equal('fetched');
    expect(Date.now() - started).to.be.within(250, 3000);
    expect(await counter(metrics, 'wait_timeout')).to.equal(1);
  });

  it('releases the lock when the fetch fails, so the next one may try', async () => {
    const cache = new KeyvCache();
    const lock = new ClusterLock<string>(cache, new Metrics(), log, { ttl: 60_000, wait: 100 }, systemClock);
    const failed = await lock.run('k', { recheck: async () => undefined, fetch: async () => { throw new Error('upstream down'); }, holdUntil: async () => undefined })
      .then(() => undefined, (e: Error) => e.message);
    expect(failed).to.equal('upstream down');
    expect(await cache.tryLock('fill:k', 1000)).to.be.a('function');
  });
});
