import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, sha256 } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';
import { KnexMetadataStore } from '../../src/metadata/knex/knex-metadata-store.js';
import path from 'node:path';

describe('serving: HEAD, ranges, conditional requests, policy, restart', function () {
  this.timeout(30_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const body = randomBytes(1_000_000);
  const small = randomBytes(5_000);
  const remotes = (url: string) => ({
    files: { type: 'generic', upstream: url },
    limited: { type: 'generic', upstream: url, include: ['^allowed/'], exclude: ['secret'], maxSize: '10KiB' },
  });

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/big.iso', { body, lastModified: 'Mon, 02 Nov 2026 08:00:00 GMT', headers: { 'content-disposition': 'attachment; filename=big.iso' } });
    upstream.set('/small.zip', { body: small });
    upstream.set('/allowed/ok.zip', { body: small });
    upstream.set('/allowed/huge.zip', { body });
    upstream.set('/allowed/secret.zip', { body: small });
    upstream.set('/elsewhere.zip', { body: small });
    cf = await startCacheForge({ remotes: remotes(upstream.url) });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('HEAD of something not held asks the upstream with HEAD and stores nothing', async () => {
    const res = await request(`${cf.url}/files/big.iso`, { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(res.headers['x-cache-status']).to.equal('MISS');
    expect(res.headers['content-length']).to.equal(String(body.length));
    expect(res.body.length).to.equal(0);
    expect(upstream.count('/big.iso', 'HEAD')).to.equal(1);
    expect(upstream.count('/big.iso', 'GET')).to.equal(0);
  });

  it('serves a stored object with its validators, kept headers, and HEAD from the store', async () => {
    await request(`${cf.url}/files/big.iso`);
    const head = await request(`${cf.url}/files/big.iso`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers['x-cache-status']).to.equal('HIT');
    expect(head.headers['content-length']).to.equal(String(body.length));
    expect(head.headers.etag).to.equal(`"${sha256(body)}"`);
    expect(head.headers['last-modified']).to.equal('Mon, 02 Nov 2026 08:00:00 GMT');
    expect(head.headers['accept-ranges']).to.equal('bytes');
    expect(head.headers['content-disposition']).to.equal('attachment; filename=big.iso');
    expect(upstream.count('/big.iso', 'GET')).to.equal(1);
  });

  it('answers conditional requests from clients with 304', async () => {
    const etag = `"${sha256(body)}"`;
    const byTag = await request(`${cf.url}/files/big.iso`, { headers: { 'if-none-match': `"other", ${etag}` } });
    expect(byTag.status).to.equal(304);
    expect(byTag.body.length).to.equal(0);
    expect(byTag.headers['x-cache-status']).to.equal('HIT');
    const byDate = await request(`${cf.url}/files/big.iso`, { headers: { 'if-modified-since': 'Tue, 03 Nov 2026 00:00:00 GMT' } });
    expect(byDate.status).to.equal(304);
    const changed = await request(`${cf.url}/files/big.iso`, { headers: { 'if-none-match': '"nope"' } });
    expect(changed.status).to.equal(200);
    expect(changed.body.length).to.equal(body.length);
  });

  it('serves byte ranges (206) and refuses unsatisfiable ones (416)', async () => {
    const mid = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=1000-1999' } });
    expect(mid.status).to.equal(206);
    expect(mid.headers['content-range']).to.equal(`bytes 1000-1999/${body.length}`);
    expect(mid.body.equals(body.subarray(1000, 2000))).to.equal(true);
    const suffix = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=-10' } });
    expect(suffix.status).to.equal(206);
    expect(suffix.body.equals(body.subarray(body.length - 10))).to.equal(true);
    const open = await request(`${cf.url}/files/big.iso`, { headers: { range: `bytes=${body.length - 5}-` } });
    expect(open.body.equals(body.subarray(body.length - 5))).to.equal(true);
    const beyond = await request(`${cf.url}/files/big.iso`, { headers: { range: `bytes=${body.length}-` } });
    expect(beyond.status).to.equal(416);
    expect(beyond.headers['content-range']).to.equal(`bytes */${body.length}`);
    expect(JSON.parse(beyond.body.toString()).errors[0].code).to.equal('CF_ERR_REQUEST_RANGE');
    const stale = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=0-9', 'if-range': '"old"' } });
    expect(stale.status).to.equal(200);
    expect(stale.body.length).to.equal(body.length);
    // Small objects are served from memory; ranges work there too.
    await request(`${cf.url}/files/small.zip`);
    const fromMemory = await request(`${cf.url}/files/small.zip`, { headers: { range: 'bytes=10-19' } });
    expect(fromMemory.status).to.equal(206);
    expect(fromMemory.body.equals(small.subarray(10, 20))).to.equal(true);
  });

  it('serves a range of an object while it is still being fetched', async () => {
    const slowBody = randomBytes(600_000);
    upstream.set('/slow-range.iso', { body: slowBody, rate: 600_000 });
    const [full, part] = await Promise.all([
      request(`${cf.url}/files/slow-range.iso`),
      // Asked once the fill is under way (the upstream has been asked), so it is served from the fill.
      waitFor('the fill to start', () => upstream.count('/slow-range.iso') === 1).then(() => request(`${cf.url}/files/slow-range.iso`, { headers: { range: 'bytes=500000-500099' } })),
    ]);
    expect(full.body.equals(slowBody)).to.equal(true);
    expect(part.status).to.equal(206);
    expect(part.body.equals(slowBody.subarray(500_000, 500_100))).to.equal(true);
    expect(upstream.count('/slow-range.iso')).to.equal(1);
  });

  it('enforces include, exclude and maxSize with 403 and a reason', async () => {
    expect((await request(`${cf.url}/limited/allowed/ok.zip`)).status).to.equal(200);
    const outside = await request(`${cf.url}/limited/elsewhere.zip`);
    expect(outside.status).to.equal(403);
    expect(JSON.parse(outside.body.toString()).errors[0]).to.include({ code: 'CF_ERR_POLICY_DENIED' });
    expect(upstream.count('/elsewhere.zip')).to.equal(0);
    const excluded = await request(`${cf.url}/limited/allowed/secret.zip`);
    expect(excluded.status).to.equal(403);
    const huge = await request(`${cf.url}/limited/allowed/huge.zip`);
    expect(huge.status).to.equal(403);
    expect(JSON.parse(huge.body.toString()).errors[0].code).to.equal('CF_ERR_POLICY_TOO_LARGE');
  });

  it('counts hits and the last access in metadata, in batches', async () => {
    for (let i = 0; i < 3; i++) await request(`${cf.url}/files/small.zip`);
    const db = new KnexMetadataStore({ dialect: 'sqlite', filename: path.join(cf.dataDir, 'cacheforge.db') });
    try {
      await waitFor('hits to be flushed', async () => ((await db.getArtifact({ remote: 'files', key: 'small.zip', variant: '' }))?.hits ?? 0) >= 4);
      const record = (await db.getArtifact({ remote: 'files', key: 'small.zip', variant: '' }))!;
      expect(record.lastAccess).to.be.greaterThan(Date.now() - 10_000);
      expect(record.digest).to.equal(sha256(small));
      expect(record.size).to.equal(small.length);
    } finally {
      await db.close();
    }
  });

  it('keeps the cache across a restart, and serves it with the upstream down', async () => {
    await cf.stop();
    await upstream.stop();
    cf = await startCacheForge({ remotes: remotes('http://127.0.0.1:9/') }, { dataDir: cf.dataDir });
    const res = await request(`${cf.url}/files/big.iso`);
    expect(res.status).to.equal(200);
    expect(res.headers['x-cache-status']).to.equal('HIT');
    expect(sha256(res.body)).to.equal(sha256(body));
    upstream = await new FakeUpstream().start(); // for after()
  });
});

describe('serving: a blob deleted by hand', function () {
  this.timeout(20_000);
  it('is fetched again on the next request, transparently', async () => {
    const { rm: remove } = await import('node:fs/promises');
    const upstream = await new FakeUpstream().start();
    const body = randomBytes(600_000);
    upstream.set('/gone.iso', { body });
    const cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: upstream.url } } });
    try {
      expect((await request(`${cf.url}/files/gone.iso`)).headers['x-cache-status']).to.equal('MISS');
      const digest = sha256(body);
      const blob = path.join(cf.dataDir, 'blobs', 'sha256', digest.slice(0, 2), digest);
      const { existsSync } = await import('node:fs');
      await waitFor('the blob to be committed', () => existsSync(blob));
      expect((await request(`${cf.url}/files/gone.iso`)).headers['x-cache-status']).to.equal('HIT');
      await remove(blob);
      const again = await request(`${cf.url}/files/gone.iso`);
      expect(again.status).to.equal(200);
      expect(again.headers['x-cache-status']).to.equal('MISS');
      expect(sha256(again.body)).to.equal(digest);
      expect(upstream.count('/gone.iso', 'GET')).to.equal(2); // the first fill, and the refetch
    } finally {
      await cf.cleanup();
      await upstream.stop();
    }
  });
});
