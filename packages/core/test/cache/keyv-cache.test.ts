import { expect } from 'chai';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';
import { cacheSuite } from '../../../conformance/src/index.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

cacheSuite('KeyvCache in memory', { create: async () => new KeyvCache() });

describe('KeyvCache in memory specifics', () => {
  it('lets a lock its holder never released expire after its ttl', async () => {
    const clock = new ManualClock();
    const cache = new KeyvCache({ clock });
    expect(await cache.tryLock('k', 50)).to.be.a('function');
    expect(await cache.tryLock('k', 50)).to.equal(undefined);
    clock.advance(49);
    expect(await cache.tryLock('k', 50)).to.equal(undefined);
    clock.advance(1);
    expect(await cache.tryLock('k', 50)).to.be.a('function');
  });
});
