import { expect } from 'chai';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, sha256 } from '../../src/testing/http.js';
import { randomBytes } from 'node:crypto';

describe('pipeline: miss then hit', () => {
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const tarball = randomBytes(300_000);

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/dist/app-1.0.tar.gz', { body: tarball, headers: { 'content-type': 'application/gzip' } });
    cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: `${upstream.url}dist/` } } });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('fetches once, then serves identical bytes from the store', async () => {
    const first = await request(`${cf.url}/files/app-1.0.tar.gz`);
    expect(first.status).to.equal(200);
    expect(first.headers['x-cache-status']).to.equal('MISS');
    expect(sha256(first.body)).to.equal(sha256(tarball));
    const second = await request(`${cf.url}/files/app-1.0.tar.gz`);
    expect(second.status).to.equal(200);
    expect(second.headers['x-cache-status']).to.equal('HIT');
    expect(second.headers['content-type']).to.equal('application/gzip');
    expect(second.headers.etag).to.equal(`"${sha256(tarball)}"`);
    expect(sha256(second.body)).to.equal(sha256(tarball));
    expect(upstream.count('/dist/app-1.0.tar.gz')).to.equal(1);
  });
});
