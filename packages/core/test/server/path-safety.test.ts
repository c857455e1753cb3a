import { expect } from 'chai';
import { mkdtemp, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';

describe('server: request paths that try to escape', () => {
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let outside: string;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/repo/ok.tar.gz', { body: Buffer.from('ok') });
    upstream.set('/secret.tar.gz', { body: Buffer.from('outside the remote base path') });
    outside = await mkdtemp(path.join(tmpdir(), 'cf-outside-'));
    await writeFile(path.join(outside, 'passwd'), 'root:x:0:0');
    cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: `${upstream.url}repo/` } } });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); await rm(outside, { recursive: true, force: true }); });

  const attempts: [string, string][] = [
    ['dot-dot segment', '/files/../secret.tar.gz'],
    ['dot-dot deeper', '/files/a/../../secret.tar.gz'],
    ['encoded dot-dot', '/files/%2e%2e/secret.tar.gz'],
    ['mixed encoded dot-dot', '/files/.%2E/secret.tar.gz'],
    ['single dot', '/files/./ok.tar.gz'],
    ['encoded slash', '/files/..%2fsecret.tar.gz'],
    ['encoded slash (upper case)', '/files/a%2F..%2F..%2Fsecret.tar.gz'],
    ['backslash', '/files/..\\secret.tar.gz'],
    ['encoded backslash', '/files/..%5csecret.tar.gz'],
    ['NUL byte', '/files/ok.tar.gz%00.txt'],
    ['control character', '/files/ok%0a.tar.gz'],
    ['overlong UTF-8 dot', '/files/%c0%ae%c0%ae/secret.tar.gz'],
    ['overlong UTF-8 slash', '/files/..%c0%afsecret.tar.gz'],
    ['invalid percent-encoding', '/files/%zz.tar.gz'],
    ['empty segment', '/files//etc/passwd'],
    ['absolute path smuggled in a segment', `/files/${encodeURIComponent('/etc/passwd')}`],
    ['overlong path', `/files/${'a/'.repeat(1100)}x.tar.gz`],
    ['overlong segment', `/files/${'a'.repeat(300)}.tar.gz`],
  ];

  for (const [name, rawPath] of attempts) {
    it(`refuses ${name} with 400 and touches nothing`, async () => {
      const before = upstream.requests.length;
      const res = await request(cf.url, { path: rawPath });
      expect(res.status, rawPath).to.equal(400);
      const body = JSON.parse(res.body.toString());
      expect(body.errors[0].code).to.equal('CF_ERR_REQUEST_BAD_PATH');
      expect(upstream.requests.length, 'no upstream request').to.equal(before);
    });
  }

  it('leaves the store and the folders around it untouched', async () => {
    expect(await readdir(outside)).to.deep.equal(['passwd']);
    expect(await readdir(path.join(cf.dataDir, 'blobs', 'tmp'))).to.deep.equal([]);
    expect(await readdir(path.join(cf.dataDir, 'blobs', 'sha256'))).to.deep.equal([]);
  });

  it('still serves ordinary paths, including percent-encoded names', async () => {
    upstream.set('/repo/with%20space.tar.gz', { body: Buffer.from('spaced') });
    expect((await request(`${cf.url}/files/ok.tar.gz`)).status).to.equal(200);
    const spaced = await request(cf.url, { path: '/files/with%20space.tar.gz' });
    expect(spaced.status).to.equal(200);
    expect(spaced.body.toString()).to.equal('spaced');
  });
});

describe('server: endpoints and methods', () => {
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/a.tar.gz', { body: Buffer.from('a'.repeat(1000)) });
    cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: upstream.url } } });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('/-/health answers 200', async () => {
    const res = await request(`${cf.url}/-/health`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString()).status).to.equal('ok');
  });

  it('/-/ready checks storage, metadata and cache', async () => {
    const res = await request(`${cf.url}/-/ready`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString()).checks).to.deep.equal({ storage: 'ok', metadata: 'ok', cache: 'ok' });
  });

  it('/-/metrics exposes requests by remote and cache status, bytes, upstream latency and in-flight fetches', async () => {
    await request(`${cf.url}/files/a.tar.gz`);
    await request(`${cf.url}/files/a.tar.gz`);
    // A fill's bytes are counted when it has settled (recorded), and a response's when its socket
    // closes: both may come just after the client got the last byte.
    const metrics = async () => (await request(`${cf.url}/-/metrics`)).body.toString();
    await waitFor('the bytes to be counted', async () => {
      const text = await metrics();
      return /cacheforge_fetched_bytes_total\{remote="files"\} 1000/.test(text) && /cacheforge_served_bytes_total\{remote="files"\} 2000/.test(text);
    });
    const text = await metrics();
    expect(text).to.match(/cacheforge_requests_total\{remote="files",cache="MISS",status="200"\} 1/);
    expect(text).to.match(/cacheforge_requests_total\{remote="files",cache="HIT",status="200"\} 1/);
    expect(text).to.match(/cacheforge_served_bytes_total\{remote="files"\} 2000/);
    expect(text).to.match(/cacheforge_fetched_bytes_total\{remote="files"\} 1000/);
    expect(text).to.match(/cacheforge_upstream_response_seconds_count\{remote="files",status="200"\} 1/);
    expect(text).to.contain('cacheforge_inflight_fetches');
  });

  it('answers 404 with CF_ERR_REMOTE_UNKNOWN for an unknown remote, and for unknown /-/ endpoints', async () => {
    const res = await request(`${cf.url}/nosuch/a.tar.gz`);
    expect(res.status).to.equal(404);
    expect(JSON.parse(res.body.toString())).to.deep.equal({ errors: [{ code: 'CF_ERR_REMOTE_UNKNOWN', message: 'no remote named "nosuch"' }] });
    expect((await request(`${cf.url}/-/nope`)).status).to.equal(404);
  });

  it('refuses methods other than GET and HEAD with 405 and Allow', async () => {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      const res = await request(`${cf.url}/files/a.tar.gz`, { method });
      expect(res.status, method).to.equal(405);
      expect(res.headers.allow).to.equal('GET, HEAD');
      expect(JSON.parse(res.body.toString()).errors[0].code).to.equal('CF_ERR_REQUEST_METHOD');
    }
  });
});
