import { expect } from 'chai';
import type { HotCache } from '@cacheforge/core';

/** How a hot cache implementation is put under the kit. */
export interface CacheSuiteOptions {
  /** A fresh, empty cache (its own key prefix, database, ...). */
  create(): Promise<HotCache>;
  /**
   * A second client of the same cache, as another replica would open it. When given, the kit
   * checks that values and locks are shared, and that a dead holder's lock runs out.
   */
  connectAgain?(first: HotCache): Promise<HotCache>;
  /** Whatever keys the backend still holds: must be empty at the end. */
  residue?(cache: HotCache): Promise<string[]>;
  destroy?(cache: HotCache): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 25 ms for at most `ms`. */
async function eventually(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (await check()) return true;
    await sleep(25);
  }
  return check();
}

/**
 * The hot cache contract (see `HotCache` in @cacheforge/core): JSON values with deadlines, keys
 * that share a prefix kept apart, and exclusive per-key locks that expire when their holder dies.
 */
export function cacheSuite(name: string, options: CacheSuiteOptions): void {
  describe(`${name}: hot cache conformance`, function () {
    let cache: HotCache;
    const written = new Set<string>();
    const set = async (key: string, value: unknown, ttl?: number) => { written.add(key); await cache.set(key, value, ttl); };

    before(async () => { cache = await options.create(); });
    after(async () => {
      if (!cache) return;
      await cache.close();
      await options.destroy?.(cache);
    });

    it('answers undefined for a key it does not hold', async () => {
      expect(await cache.get('never-set')).to.equal(undefined);
      expect(await cache.delete('never-set')).to.equal(false);
    });

    it('keeps JSON values exactly, and deletes them', async () => {
      const values: Record<string, unknown> = { number: 1_790_000_000_123, string: 'é"\n', object: { a: [1, 'b', null, true], n: { deep: 1 } }, zero: 0, empty: '' };
      for (const [key, value] of Object.entries(values)) await set(key, value);
      for (const [key, value] of Object.entries(values)) expect(await cache.get(key), key).to.deep.equal(value);
      for (const key of Object.keys(values)) expect(await cache.delete(key)).to.equal(true);
      for (const key of Object.keys(values)) expect(await cache.get(key)).to.equal(undefined);
    });

    it('forgets a value after its deadline and keeps one without', async () => {
      await set('short', 'x', 150);
      await set('forever', 'y');
      await set('zero-ttl', 'z', 0);
      expect(await cache.get('short')).to.equal('x');
      expect(await eventually(3000, async () => (await cache.get('short')) === undefined)).to.equal(true);
      expect(await cache.get('forever')).to.equal('y');
      expect(await cache.get('zero-ttl')).to.equal('z');
      await cache.delete('forever');
      await cache.delete('zero-ttl');
    });

    it('keeps keys sharing a prefix apart', async () => {
      const keys = ['neg:files\u0000a', 'neg:files\u0000ab', 'neg:files\u0000a\u0000', 'neg:files', 'neg:files\u0000a/b'];
      for (const [i, key] of keys.entries()) await set(key, i);
      for (const [i, key] of keys.entries()) expect(await cache.get(key)).to.equal(i);
      expect(await cache.delete(keys[0]!)).to.equal(true);
      expect(await cache.get(keys[1]!)).to.equal(1);
      for (const key of keys.slice(1)) await cache.delete(key);
    });

    it('gives a lock to exactly one of many concurrent takers, and again once released', async () => {
      const takers = await Promise.all(Array.from({ length: 16 }, () => cache.tryLock('fill:one', 5000)));
      const holders = takers.filter((t) => t !== undefined);
      expect(holders).to.have.length(1);
      expect(await cache.tryLock('fill:one-other', 5000).then(async (r) => { await r?.(); return !!r; })).to.equal(true);
      await holders[0]!();
      await holders[0]!(); // releasing twice is harmless
      const next = await cache.tryLock('fill:one', 5000);
      expect(next).to.be.a('function');
      await next!();
    });

    it('keeps a released holder from releasing the next holder\'s lock', async () => {
      const first = (await cache.tryLock('fill:two', 5000))!;
      await first();
      const second = (await cache.tryLock('fill:two', 5000))!;
      await first();
      expect(await cache.tryLock('fill:two', 5000)).to.equal(undefined);
      await second();
    });

    // Checked only for caches shared between processes (those that can `connectAgain`).
    if (options.connectAgain) it('shares values and locks with another client, and frees a dead holder\'s lock after its ttl', async function () {
      this.timeout(15_000);
      const other = await options.connectAgain!(cache);
      const third = await options.connectAgain!(cache);
      try {
        await set('shared', { by: 'first' });
        expect(await other.get('shared')).to.deep.equal({ by: 'first' });
        await other.delete('shared');
        expect(await cache.get('shared')).to.equal(undefined);
        const release = await cache.tryLock('fill:shared', 5000);
        expect(release).to.be.a('function');
        expect(await other.tryLock('fill:shared', 5000)).to.equal(undefined);
        await release!();
        expect(await eventually(2000, async () => { const r = await other.tryLock('fill:shared', 5000); await r?.(); return !!r; })).to.equal(true);
        // A holder that dies (closes without releasing) keeps others out until the ttl runs out.
        const dying = await third.tryLock('fill:dead', 800);
        expect(dying).to.be.a('function');
        await third.close();
        expect(await other.tryLock('fill:dead', 800)).to.equal(undefined);
        const start = Date.now();
        expect(await eventually(5000, async () => { const r = await other.tryLock('fill:dead', 5000); await r?.(); return !!r; })).to.equal(true);
        expect(Date.now() - start).to.be.below(5000);
      } finally {
        await other.close();
        await third.close().catch(() => undefined);
      }
    });

    it('answers ping', async () => {
      await cache.ping();
    });

    it('is clean once its values are deleted and its locks released', async () => {
      for (const key of written) await cache.delete(key);
      if (options.residue) expect(await eventually(3000, async () => (await options.residue!(cache)).length === 0)).to.equal(true);
    });
  });
}
