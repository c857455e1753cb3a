import { expect } from 'chai';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';

describe('KeyvCache in memory', () => {
  it('stores values with a TTL in milliseconds', async () => {
    const cache = new KeyvCache();
    await cache.set('a', { n: 1 }, 100);
    await cache.set('b', 2);
    expect(await cache.get('a')).to.deep.equal({ n: 1 });
    await new Promise((r) => setTimeout(r, 150));
    expect(await cache.get('a')).to.equal(undefined);
    expect(await cache.get('b')).to.equal(2);
    expect(await cache.delete('b')).to.equal(true);
    expect(await cache.get('b')).to.equal(undefined);
  });

  it('gives a lock to one holder at a time, and again once released or expired', async () => {
    const cache = new KeyvCache();
    const release = await cache.tryLock('k', 100);
    expect(release).to.be.a('function');
    expect(await cache.tryLock('k', 100)).to.equal(undefined);
    await release!();
    const again = await cache.tryLock('k', 50);
    expect(again).to.be.a('function');
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.tryLock('k', 50)).to.be.a('function');
  });
});
