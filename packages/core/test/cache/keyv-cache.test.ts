import { expect } from 'chai';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';
import { cacheSuite } from '../../../conformance/src/index.js';

cacheSuite('KeyvCache in memory', { create: async () => new KeyvCache() });

describe('KeyvCache in memory specifics', () => {
  it('lets a lock its holder never released expire after its ttl', async () => {
    const cache = new KeyvCache();
    expect(await cache.tryLock('k', 50)).to.be.a('function');
    expect(await cache.tryLock('k', 50)).to.equal(undefined);
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.tryLock('k', 50)).to.be.a('function');
  });
});
