import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { FakeUpstream, request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';

const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const codeOf = (body: Buffer) => (JSON.parse(body.toString()) as { errors: Array<{ code: string; message: string }> }).errors[0]!;

describe('plugin-pypi: upstream faults and configuration errors', function () {
  this.timeout(30_000);
  let index: FakeUpstream;
  let files: FakeUpstream;
  let cf: RunningCacheForge;
  const wheel = Buffer.from('PK\u0003\u0004 not really a zip, but bytes with a hash');
  const sha = createHash('sha256').update(wheel).digest('hex');

  before(async () => {
    index = await new FakeUpstream().start();
    files = await new FakeUpstream().start();
    const page = (href: string) => Buffer.from(`<html><body><a href="${href}#sha256=${sha}">demo-1.0-py3-none-any.whl</a></body></html>`);
    index.set('/simple/demo/', { body: page(`${files.url}packages/demo-1.0-py3-none-any.whl`), headers: { 'content-type': 'text/html' } });
    index.set('/simple/nohash/', { body: Buffer.from(`<a href="${files.url}packages/nohash-1.0.tar.gz">nohash-1.0.tar.gz</a>`), headers: { 'content-type': 'text/html' } });
    index.set('/simple/garbled/', { body: Buffer.from('{"meta": {"api-version": "1.0"}, "files": ['), headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } });
    files.set('/packages/demo-1.0-py3-none-any.whl', { body: wheel, cutAfter: 10 });
    files.set('/packages/nohash-1.0.tar.gz', { body: Buffer.from('an sdist the index gives no hash for') });
    // A page whose hash does not match its file: what a tampered or half-synced mirror serves.
    index.set('/simple/tampered/', { body: page(`${files.url}packages/tampered-1.0-py3-none-any.whl`), headers: { 'content-type': 'text/html' } });
    files.set('/packages/tampered-1.0-py3-none-any.whl', { body: Buffer.from('PK\u0003\u0004 other bytes than the page promised') });
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-pypi'],
      remotes: {
        pypi: { type: 'pypi', upstream: index.url, files: files.url, client: { retries: 0 } },
        streaming: { type: 'pypi', upstream: index.url, files: files.url, client: { retries: 0, verifyBeforeSend: 0 } },
      },
    });
  });
  after(async () => { await cf.cleanup(); await index.stop(); await files.stop(); });

  it('a JSON page that does not parse is a 502 naming the page, not a broken page', async () => {
    const r = await request(`${cf.url}/pypi/simple/garbled/`, { headers: { accept: JSON_ACCEPT } });
    expect(r.status).to.equal(502);
    expect(codeOf(r.body).code).to.equal('CF_ERR_UPSTREAM_INVALID');
    expect(codeOf(r.body).message).to.contain('/simple/garbled/');
  });

  it('a project the index does not have is 404', async () => {
    const r = await request(`${cf.url}/pypi/simple/absent/`);
    expect(r.status).to.equal(404);
    expect(codeOf(r.body).code).to.equal('CF_ERR_UPSTREAM_NOT_FOUND');
  });

  it('a file cut short by its host never ends as a clean download and is not stored', async () => {
    const url = `${cf.url}/pypi/files/demo/packages/demo-1.0-py3-none-any.whl`;
    for (let i = 0; i < 2; i++) {
      // Small enough to be verified before its first byte: pip gets a clean 502 naming the file
      // and the cut, not a body that breaks off (nor one it could take as whole).
      const r = await request(url);
      expect(r.status).to.equal(502);
      expect(r.complete).to.equal(true);
      expect(codeOf(r.body).code).to.equal('CF_ERR_UPSTREAM_TRUNCATED');
      expect(codeOf(r.body).message).to.contain('/packages/demo-1.0-py3-none-any.whl: body ended early');
    }
    expect(files.count('/packages/demo-1.0-py3-none-any.whl')).to.equal(2);
    files.set('/packages/demo-1.0-py3-none-any.whl', { body: wheel });
    const ok = await request(url);
    expect(ok.status).to.equal(200);
    expect(ok.body.equals(wheel)).to.equal(true);
  });

  it('a small file whose bytes differ from the page\'s hash is a clean 502 before any byte (pip does not check lengths)', async () => {
    const r = await request(`${cf.url}/pypi/files/tampered/packages/tampered-1.0-py3-none-any.whl`);
    expect(r.status).to.equal(502);
    expect(r.complete).to.equal(true);
    expect(codeOf(r.body).code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(codeOf(r.body).message).to.contain('tampered-1.0-py3-none-any.whl');
    // With verification before the first byte turned off, the same file streams and is cut at its last byte.
    const streamed = await request(`${cf.url}/streaming/files/tampered/packages/tampered-1.0-py3-none-any.whl`);
    expect(streamed.status).to.equal(200);
    expect(streamed.complete).to.equal(false);
  });

  it('a file the index gives no hash for is served with its length checked', async () => {
    const r = await request(`${cf.url}/pypi/files/nohash/packages/nohash-1.0.tar.gz`);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('an sdist the index gives no hash for');
  });

  it('a files option that is not a URL stops the start, naming the key', async () => {
    const started = await startCacheForge({ plugins: ['@cacheforge/plugin-pypi'], remotes: { py: { type: 'pypi', upstream: index.url, files: 'not a url' } } })
      .then(async (running) => { await running.cleanup(); return undefined; }, (err: Error) => err);
    expect(started, 'start succeeded').to.be.instanceOf(Error);
    expect(started!.message).to.contain('remotes.py.files');
  });
});
