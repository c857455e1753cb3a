import { expect } from 'chai';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { ManualClock } from '../../src/testing/manual-clock.js';


describe('pipeline: mutable documents', function () {
  this.timeout(30_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  // TTLs pass when the test moves this clock: no test sleeps through one.
  const clock = new ManualClock();

  before(async () => {
    upstream = await new FakeUpstream().start();
    cf = await startCacheForge({
      remotes: { files: { type: 'generic', upstream: upstream.url, ttl: { mutable: '1s' }, client: { retries: 0, connectTimeout: '1s' } } },
    }, { clock });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('serves a document from the store within its TTL, without asking upstream', async () => {
    upstream.set('/within.sha256', { body: Buffer.from('abc  file\n'), etag: '"w1"' });
    expect((await request(`${cf.url}/files/within.sha256`)).headers['x-cache-status']).to.equal('MISS');
    const hit = await request(`${cf.url}/files/within.sha256`);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(upstream.count('/within.sha256')).to.equal(1);
  });

  it('revalidates after the TTL with If-None-Match; a 304 keeps the stored copy (REVALIDATED)', async () => {
    upstream.set('/same.sha256', { body: Buffer.from('v1\n'), etag: '"e1"' });
    await request(`${cf.url}/files/same.sha256`);
    await cf.fillsSettled();
    clock.advance(1100);
    const res = await request(`${cf.url}/files/same.sha256`);
    expect(res.status).to.equal(200);
    expect(res.headers['x-cache-status']).to.equal('REVALIDATED');
    expect(res.body.toString()).to.equal('v1\n');
    const conditional = upstream.requests.filter((r) => r.path === '/same.sha256')[1]!;
    expect(conditional.headers['if-none-match']).to.equal('"e1"');
    // Fresh again after the 304: the next request is a plain hit.
    expect((await request(`${cf.url}/files/same.sha256`)).headers['x-cache-status']).to.equal('HIT');
    expect(upstream.count('/same.sha256')).to.equal(2);
  });

  it('revalidates with If-Modified-Since when the upstream gives only Last-Modified', async () => {
    const lastModified = 'Tue, 01 Sep 2026 10:00:00 GMT';
    upstream.set('/dated.txt', { body: Buffer.from('dated\n'), lastModified });
    const first = await request(`${cf.url}/files/dated.txt`);
    expect(first.headers['last-modified']).to.equal(lastModified);
    await cf.fillsSettled();
    clock.advance(1100);
    const res = await request(`${cf.url}/files/dated.txt`);
    expect(res.headers['x-cache-status']).to.equal('REVALIDATED');
    expect(upstream.requests.filter((r) => r.path === '/dated.txt')[1]!.headers['if-modified-since']).to.equal(lastModified);
  });

  it('replaces the stored copy when the upstream answers 200 with new content', async () => {
    upstream.set('/changing.json', { body: Buffer.from('{"v":1}'), etag: '"a"' });
    expect((await request(`${cf.url}/files/changing.json`)).body.toString()).to.equal('{"v":1}');
    upstream.set('/changing.json', { body: Buffer.from('{"v":2}'), etag: '"b"' });
    await cf.fillsSettled();
    clock.advance(1100);
    const res = await request(`${cf.url}/files/changing.json`);
    expect(res.headers['x-cache-status']).to.equal('MISS');
    expect(res.body.toString()).to.equal('{"v":2}');
    const hit = await request(`${cf.url}/files/changing.json`);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(hit.body.toString()).to.equal('{"v":2}');
  });

  it('serves the stale copy, marked STALE, when the upstream fails or is down', async () => {
    upstream.set('/index.html', { body: Buffer.from('<a href="x">x</a>'), etag: '"i1"' });
    await request(`${cf.url}/files/index.html`);
    await cf.fillsSettled();
    clock.advance(1100);
    upstream.set('/index.html', { status: 503 });
    const failing = await request(`${cf.url}/files/index.html`);
    expect(failing.status).to.equal(200);
    expect(failing.headers['x-cache-status']).to.equal('STALE');
    expect(failing.body.toString()).to.equal('<a href="x">x</a>');

    upstream.down = true;
    upstream.dropConnections();
    try {
      const down = await request(`${cf.url}/files/index.html`);
      expect(down.status).to.equal(200);
      expect(down.headers['x-cache-status']).to.equal('STALE');
      expect(down.body.toString()).to.equal('<a href="x">x</a>');
    } finally {
      upstream.down = false;
    }
  });

  it('serves immutable artifacts without ever revalidating them', async () => {
    upstream.set('/pkg-1.0.tar.gz', { body: Buffer.from('tarball'), etag: '"t"' });
    await request(`${cf.url}/files/pkg-1.0.tar.gz`);
    await cf.fillsSettled();
    clock.advance(1100);
    const res = await request(`${cf.url}/files/pkg-1.0.tar.gz`);
    expect(res.headers['x-cache-status']).to.equal('HIT');
    expect(upstream.count('/pkg-1.0.tar.gz')).to.equal(1);
  });
});
