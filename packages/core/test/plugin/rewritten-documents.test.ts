import { expect } from 'chai';
import { memoryEntity, RewrittenDocuments } from '../../src/plugin/rewritten-documents.js';

async function read(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

describe('plugin: rewritten documents held in memory', () => {
  it('memoryEntity answers whole and ranged reads, and precomputes the hot-hit header block', async () => {
    const modified = new Date('2026-01-02T03:04:05Z');
    const entity = memoryEntity(Buffer.from('{"name":"x"}'), { contentType: 'application/json', lastModified: modified, headers: { vary: 'Accept' } });
    expect(await read(await entity.open())).to.equal('{"name":"x"}');
    expect(await read(await entity.open({ start: 2, end: 5 }))).to.equal('name');
    expect(entity.headerBlock).to.include({
      'content-type': 'application/json', 'content-length': '12', vary: 'Accept', 'X-Cache-Status': 'HIT',
      'last-modified': modified.toUTCString(), etag: entity.etag,
    });
    // The same bytes give the same validator; other bytes another one.
    expect(memoryEntity(Buffer.from('{"name":"x"}'), { contentType: 'application/json' }).etag).to.equal(entity.etag);
    expect(memoryEntity(Buffer.from('{"name":"y"}'), { contentType: 'application/json' }).etag).to.not.equal(entity.etag);
    expect(memoryEntity(Buffer.from('a'), { contentType: 'text/plain', etag: '"given"' }).headerBlock!.etag).to.equal('"given"');
  });

  it('keeps documents within its byte budget, dropping the least recently used first', () => {
    const cache = new RewrittenDocuments(400);
    const doc = (n: number) => memoryEntity(Buffer.alloc(n, 'a'), { contentType: 'text/plain' });
    cache.set('a', doc(100));
    cache.set('b', doc(100));
    cache.set('c', doc(100));
    expect(cache.get('a')).to.not.equal(undefined); // a is now the most recently used
    cache.set('d', doc(100));
    cache.set('e', doc(100)); // 500 > 400: the least recently used (b) goes
    expect(cache.get('b')).to.equal(undefined);
    expect(['a', 'c', 'd', 'e'].every((k) => cache.get(k) !== undefined)).to.equal(true);
    // A single document over a quarter of the budget is never kept, and evicts nothing.
    cache.set('huge', doc(101));
    expect(cache.get('huge')).to.equal(undefined);
    expect(cache.get('a')).to.not.equal(undefined);
  });
});
