import { expect } from 'chai';
import { HotIndex, type HotEntry } from '../../src/pipeline/lookup/hot-index.js';
import type { ArtifactRecord } from '../../src/metadata/metadata.js';

const record = { remote: 'r', key: 'k', variant: '', digest: 'd', size: 0, headers: {}, class: 'immutable', fetchedAt: 0, checkedAt: 0, hits: 0, lastAccess: 0 } as ArtifactRecord;
const entry = (body?: number): HotEntry => ({ record, checkedAt: 0, ...(body === undefined ? {} : { body: Buffer.alloc(body) }) });

describe('pipeline/hot-index: records bounded by count, bodies by bytes', () => {
  it('past the byte budget drops the least recent bodies first and keeps their records', () => {
    const hot = new HotIndex(10, 8);
    hot.set('a', entry(6));
    hot.set('b', entry(6));
    expect(hot.get('a')?.body).to.equal(undefined);
    expect(hot.get('a')?.record).to.equal(record);
    expect(hot.get('b')?.body?.length).to.equal(6);
    expect(hot.bytes).to.equal(6);
  });

  it('keeps no body larger than maxObjectBytes, and attaches one lazily only when it fits', () => {
    const hot = new HotIndex(100, 8);
    hot.set('big', entry(9));
    expect(hot.get('big')?.body).to.equal(undefined);
    hot.attachBody('big', Buffer.alloc(9));
    expect(hot.get('big')?.body).to.equal(undefined);
    hot.attachBody('big', Buffer.alloc(8));
    expect(hot.get('big')?.body?.length).to.equal(8);
    expect(hot.bytes).to.equal(8);
    hot.attachBody('absent', Buffer.alloc(1));
    expect(hot.get('absent')).to.equal(undefined);
  });

  it('evicts whole records past the count bound, least recent first', () => {
    const hot = new HotIndex(100, 10, 2);
    hot.set('a', entry()); hot.set('b', entry(5)); hot.get('a'); hot.set('c', entry(5));
    expect([hot.get('a') !== undefined, hot.get('b'), hot.get('c') !== undefined]).to.deep.equal([true, undefined, true]);
    expect(hot.bytes).to.equal(5);
    hot.delete('c');
    expect(hot.bytes).to.equal(0);
  });
});
