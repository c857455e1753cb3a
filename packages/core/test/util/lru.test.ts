import { expect } from 'chai';
import { Lru } from '../../src/util/lru.js';

const bytes = (n: number) => Buffer.alloc(n);

describe('util/lru: one byte-bounded least-recently-used map', () => {
  it('evicts the least recently used values until the sizes fit the budget', () => {
    const lru = new Lru<string, Buffer>({ maxBytes: 10, sizeOf: (b) => b.length });
    lru.set('a', bytes(4));
    lru.set('b', bytes(4));
    lru.get('a'); // a is now the most recent: b goes first
    lru.set('c', bytes(4));
    expect([lru.peek('a')?.length, lru.peek('b'), lru.peek('c')?.length]).to.deep.equal([4, undefined, 4]);
    expect(lru.bytes).to.equal(8);
    expect(lru.size).to.equal(2);
  });

  it('replacing a key frees its old size and makes it the most recent', () => {
    const lru = new Lru<string, Buffer>({ maxBytes: 10, sizeOf: (b) => b.length });
    lru.set('a', bytes(6));
    lru.set('b', bytes(2));
    lru.set('a', bytes(3));
    expect(lru.bytes).to.equal(5);
    lru.set('c', bytes(6)); // over by 1: b (now the least recent) goes, a stays
    expect(lru.peek('b')).to.equal(undefined);
    expect(lru.peek('a')?.length).to.equal(3);
  });

  it('peek and update leave the recency as it is; update re-reads the size and evicts', () => {
    const lru = new Lru<string, { n: number }>({ maxBytes: 10, sizeOf: (v) => v.n });
    lru.set('a', { n: 1 });
    lru.set('b', { n: 1 });
    lru.peek('a');
    expect(lru.update('a', { n: 9 })).to.equal(true);
    expect(lru.bytes).to.equal(10);
    expect(lru.update('b', { n: 5 })).to.equal(true); // 14 > 10: a, still the least recent, goes
    expect(lru.peek('a')).to.equal(undefined);
    expect(lru.bytes).to.equal(5);
    expect(lru.update('missing', { n: 1 })).to.equal(false);
  });

  it('a count bound evicts whole entries, whatever their size', () => {
    const lru = new Lru<string, number>({ maxBytes: 1_000, maxEntries: 2, sizeOf: () => 0 });
    lru.set('a', 1); lru.set('b', 2); lru.set('c', 3);
    expect([lru.peek('a'), lru.peek('b'), lru.peek('c')]).to.deep.equal([undefined, 2, 3]);
  });

  it('with shed, bytes are freed by lightening the least recent values, which stay', () => {
    type Item = { name: string; body?: Buffer };
    const lru = new Lru<string, Item>({ maxBytes: 10, sizeOf: (v) => v.body?.length ?? 0, shed: (v) => ({ name: v.name }) });
    lru.set('a', { name: 'a', body: bytes(6) });
    lru.set('b', { name: 'b', body: bytes(6) });
    expect(lru.size).to.equal(2);
    expect(lru.peek('a')).to.deep.equal({ name: 'a' });
    expect(lru.peek('b')?.body?.length).to.equal(6);
    expect(lru.bytes).to.equal(6);
  });

  it('delete frees the size and answers whether the key was there', () => {
    const lru = new Lru<string, Buffer>({ maxBytes: 10, sizeOf: (b) => b.length });
    lru.set('a', bytes(3));
    expect(lru.delete('a')).to.equal(true);
    expect(lru.delete('a')).to.equal(false);
    expect([lru.bytes, lru.size]).to.deep.equal([0, 0]);
  });
});
