import { expect } from 'chai';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { FakeRegistry, packTarball } from './support/fake-registry.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FULL = { accept: 'application/json' };
const ABBREVIATED = { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' };

function send(url: string, method: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-length': String(body.length), ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (body: Buffer) => JSON.parse(body.toString()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('plugin-npm: the registry API against a local registry', () => {
  let registry: FakeRegistry;
  let cf: RunningCacheForge;
  const tarballs = {
    left: packTarball('left-pad', '1.3.0'),
    left2: packTarball('left-pad', '1.4.0'),
    scoped: packTarball('@acme/util', '2.0.0'),
    bad: packTarball('badpkg', '1.0.0'),
    withDeps: packTarball('with-deps', '0.1.0', { dependencies: { 'left-pad': '^1.3.0' } }),
  };

  const start = (extra: Record<string, unknown> = {}, options: { dataDir?: string } = {}) => startCacheForge({
    plugins: [PLUGIN],
    remotes: { npm: { type: 'npm', upstream: registry.url, client: { retries: 0 }, ...extra } },
  }, options);

  before(async () => {
    registry = await new FakeRegistry().start();
    registry.publish('left-pad', { version: '1.3.0', tarball: tarballs.left });
    registry.publish('@acme/util', { version: '2.0.0', tarball: tarballs.scoped });
    registry.publish('badpkg', { version: '1.0.0', tarball: tarballs.bad });
    registry.publish('with-deps', { version: '0.1.0', tarball: tarballs.withDeps, dependencies: { 'left-pad': '^1.3.0' } });
    cf = await start();
  });
  after(async () => {
    await cf.cleanup();
    await registry.stop();
  });

  it('serves full and abbreviated documents as separate variants, Vary: Accept, tarball URLs pointing back at the proxy', async () => {
    const full = await request(`${cf.url}/npm/left-pad`, { headers: FULL });
    const abbreviated = await request(`${cf.url}/npm/left-pad`, { headers: ABBREVIATED });
    expect(full.status).to.equal(200);
    expect(abbreviated.status).to.equal(200);
    expect(full.headers.vary).to.match(/accept/i);
    expect(abbreviated.headers.vary).to.match(/accept/i);
    expect(json(full.body).readme, 'the full document keeps its readme').to.be.a('string');
    expect(json(abbreviated.body).readme).to.equal(undefined);
    expect(json(full.body).versions['1.3.0'].dist.tarball).to.equal(`${cf.url}/npm/left-pad/-/left-pad-1.3.0.tgz`);
    expect(json(abbreviated.body).versions['1.3.0'].dist.tarball).to.equal(`${cf.url}/npm/left-pad/-/left-pad-1.3.0.tgz`);
    // The readme's text that merely looks like a tarball member is left alone.
    expect(json(full.body).readme).to.include('"tarball": "not a URL"');
    expect(registry.count('/left-pad')).to.equal(2);
    const again = await request(`${cf.url}/npm/left-pad`, { headers: ABBREVIATED });
    expect(again.headers['x-cache-status']).to.equal('HIT');
    expect(again.body.equals(abbreviated.body)).to.equal(true);
    expect(registry.count('/left-pad')).to.equal(2);
  });

  it('rewrites for the base each client used (Host), from one stored document, with distinct ETags', async () => {
    const a = await request(`${cf.url}/npm/left-pad`, { headers: { ...FULL, host: 'mirror-a.example:8080' } });
    const b = await request(`${cf.url}/npm/left-pad`, { headers: { ...FULL, host: 'mirror-b.example' } });
    expect(json(a.body).versions['1.3.0'].dist.tarball).to.equal('http://mirror-a.example:8080/npm/left-pad/-/left-pad-1.3.0.tgz');
    expect(json(b.body).versions['1.3.0'].dist.tarball).to.equal('http://mirror-b.example/npm/left-pad/-/left-pad-1.3.0.tgz');
    expect(a.headers.etag).to.not.equal(b.headers.etag);
    expect(registry.count('/left-pad')).to.equal(2);
    const notModified = await request(`${cf.url}/npm/left-pad`, { headers: { ...FULL, host: 'mirror-a.example:8080', 'if-none-match': a.headers.etag! } });
    expect(notModified.status).to.equal(304);
  });

  it('behind a trusted reverse proxy, rewrites for X-Forwarded-Proto and X-Forwarded-Host; a publicUrl wins over both', async () => {
    const behind = await startCacheForge({
      server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s', trustProxy: true },
      plugins: [PLUGIN], remotes: { npm: { type: 'npm', upstream: registry.url } },
    });
    const fixed = await startCacheForge({
      server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s', publicUrl: 'https://npm.corp.example/cache/' },
      plugins: [PLUGIN], remotes: { npm: { type: 'npm', upstream: registry.url } },
    });
    try {
      const forwarded = { ...FULL, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'registry.corp.example' };
      const res = await request(`${behind.url}/npm/left-pad`, { headers: forwarded });
      expect(json(res.body).versions['1.3.0'].dist.tarball).to.equal('https://registry.corp.example/npm/left-pad/-/left-pad-1.3.0.tgz');
      const pinned = await request(`${fixed.url}/npm/left-pad`, { headers: forwarded });
      expect(json(pinned.body).versions['1.3.0'].dist.tarball).to.equal('https://npm.corp.example/cache/npm/left-pad/-/left-pad-1.3.0.tgz');
    } finally {
      await behind.cleanup();
      await fixed.cleanup();
    }
  });

  it('answers HEAD on a document with its headers and no body', async () => {
    const head = await request(`${cf.url}/npm/left-pad`, { method: 'HEAD', headers: FULL });
    expect(head.status).to.equal(200);
    expect(head.body.length).to.equal(0);
    expect(Number(head.headers['content-length'])).to.be.greaterThan(100);
  });

  it('takes a scoped name as %2f, %2F or a literal slash: one stored document, scoped tarballs served', async () => {
    const forms = ['@acme%2futil', '@acme%2Futil', '@acme/util'];
    for (const form of forms) {
      const res = await request(`${cf.url}/npm/${form}`, { headers: FULL });
      expect(res.status, form).to.equal(200);
      expect(json(res.body).versions['2.0.0'].dist.tarball).to.equal(`${cf.url}/npm/@acme/util/-/util-2.0.0.tgz`);
    }
    expect(registry.count(/^\/@acme(%2f|\/)util$/i)).to.equal(1);
    const tarball = await request(`${cf.url}/npm/@acme/util/-/util-2.0.0.tgz`);
    expect(tarball.status).to.equal(200);
    expect(tarball.body.equals(tarballs.scoped)).to.equal(true);
  });

  it('serves version documents by version and by tag, and 404 for an unknown one', async () => {
    const byVersion = await request(`${cf.url}/npm/left-pad/1.3.0`);
    expect(byVersion.status).to.equal(200);
    expect(json(byVersion.body).version).to.equal('1.3.0');
    expect(json(byVersion.body).dist.tarball).to.equal(`${cf.url}/npm/left-pad/-/left-pad-1.3.0.tgz`);
    const latest = await request(`${cf.url}/npm/left-pad/latest`);
    expect(json(latest.body).version).to.equal('1.3.0');
    const scoped = await request(`${cf.url}/npm/@acme%2futil/2.0.0`);
    expect(json(scoped.body).name).to.equal('@acme/util');
    expect((await request(`${cf.url}/npm/left-pad/9.9.9`)).status).to.equal(404);
    const tags = await request(`${cf.url}/npm/-/package/left-pad/dist-tags`);
    expect(json(tags.body)).to.deep.equal({ latest: '1.3.0' });
  });

  it('answers 404 for a package the upstream does not have, and outside the URL space', async () => {
    const missing = await request(`${cf.url}/npm/no-such-package`, { headers: FULL });
    expect(missing.status).to.equal(404);
    expect((await request(`${cf.url}/npm/left-pad/-/left-pad-7.0.0.tgz`)).status).to.equal(404);
    expect((await request(`${cf.url}/npm/_design/app`)).status).to.equal(404);
    expect((await request(`${cf.url}/npm/-/all`)).status).to.equal(404);
  });

  it("names the remote when its root is asked (GET /npm/ has an empty path)", async () => {
    for (const url of [`${cf.url}/npm/`, `${cf.url}/npm`]) {
      const root = await request(url, { headers: FULL });
      expect(root.status).to.equal(404);
      expect(root.body.toString()).to.include('/npm/ is the root of remote \\"npm\\"');
    }
  });

  it('verifies a tarball against the document\'s integrity; a hit needs no document at all', async () => {
    const res = await request(`${cf.url}/npm/left-pad/-/left-pad-1.3.0.tgz`);
    expect(res.status).to.equal(200);
    expect(res.body.equals(tarballs.left)).to.equal(true);
    const documents = registry.count('/left-pad');
    registry.requiredAuth = 'nobody has this';   // every upstream request now fails
    try {
      const hit = await request(`${cf.url}/npm/left-pad/-/left-pad-1.3.0.tgz`);
      expect(hit.headers['x-cache-status']).to.equal('HIT');
      expect(hit.body.equals(tarballs.left)).to.equal(true);
    } finally {
      registry.requiredAuth = undefined;
    }
    expect(registry.count('/left-pad')).to.equal(documents);
    expect(registry.count('/left-pad/-/left-pad-1.3.0.tgz')).to.equal(1);
  });

  it('never stores or serves a tarball whose bytes do not match, and serves the true one once the upstream is fixed', async () => {
    registry.corrupt('badpkg-1.0.0.tgz');
    for (let i = 0; i < 2; i++) {
      const res = await request(`${cf.url}/npm/badpkg/-/badpkg-1.0.0.tgz`);
      expect(res.status, `attempt ${i}`).to.equal(502);
      expect(res.body.toString()).to.include('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    }
    // Nothing was stored: each attempt fetched again, twice (a mismatch is retried once).
    expect(registry.count('/badpkg/-/badpkg-1.0.0.tgz')).to.equal(4);
    registry.corrupt('badpkg-1.0.0.tgz', false);
    const fixed = await request(`${cf.url}/npm/badpkg/-/badpkg-1.0.0.tgz`);
    expect(fixed.status).to.equal(200);
    expect(fixed.body.equals(tarballs.bad)).to.equal(true);
    expect(fixed.headers['x-cache-status']).to.equal('MISS');
  });

  it('verifies against the sha1 shasum when a document lists no integrity', async () => {
    const legacy = packTarball('legacy-pkg', '0.0.1');
    registry.publish('legacy-pkg', { version: '0.0.1', tarball: legacy });
    registry.shasumOnly = true;
    registry.corrupt('legacy-pkg-0.0.1.tgz');
    try {
      const bad = await request(`${cf.url}/npm/legacy-pkg/-/legacy-pkg-0.0.1.tgz`);
      expect(bad.status).to.equal(502);
      registry.corrupt('legacy-pkg-0.0.1.tgz', false);
      const good = await request(`${cf.url}/npm/legacy-pkg/-/legacy-pkg-0.0.1.tgz`);
      expect(good.body.equals(legacy)).to.equal(true);
    } finally {
      registry.shasumOnly = false;
    }
  });

  it('finds a version published after its document was stored (revalidates once)', async () => {
    await request(`${cf.url}/npm/left-pad`, { headers: FULL });
    registry.publish('left-pad', { version: '1.4.0', tarball: tarballs.left2 });
    const res = await request(`${cf.url}/npm/left-pad/-/left-pad-1.4.0.tgz`);
    expect(res.status).to.equal(200);
    expect(res.body.equals(tarballs.left2)).to.equal(true);
  });

  it('relays ping, search and a gzip audit POST with its body, storing nothing', async () => {
    expect((await request(`${cf.url}/npm/-/ping?write=true`)).status).to.equal(200);
    const search = await request(`${cf.url}/npm/-/v1/search?text=left&size=20`);
    expect(json(search.body).text).to.equal('left');
    expect(search.headers['x-cache-status']).to.equal('BYPASS');
    const report = gzipSync(JSON.stringify({ 'left-pad': ['1.3.0'] }));
    const audit = await send(`${cf.url}/npm/-/npm/v1/security/advisories/bulk`, 'POST', report, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(audit.status).to.equal(200);
    expect(json(audit.body)).to.deep.equal({ audited: report.length, encoding: 'gzip' });
    const quick = await send(`${cf.url}/npm/-/npm/v1/security/audits/quick`, 'POST', Buffer.from('{}'), { 'content-type': 'application/json' });
    expect(quick.status).to.equal(200);
    expect(registry.seen.at(-1)!.body.toString()).to.equal('{}');
  });

  it('refuses publish, unpublish and dist-tag changes with 405 and a reason, sending nothing upstream', async () => {
    const before = registry.seen.length;
    const publish = await send(`${cf.url}/npm/left-pad`, 'PUT', Buffer.from('{"name":"left-pad"}'), { 'content-type': 'application/json' });
    expect(publish.status).to.equal(405);
    expect(publish.body.toString()).to.include('publishing').and.to.include('proxy');
    const scoped = await send(`${cf.url}/npm/@acme%2futil`, 'PUT', Buffer.from('{}'), { 'content-type': 'application/json' });
    expect(scoped.status).to.equal(405);
    expect((await send(`${cf.url}/npm/left-pad/-rev/3-abc`, 'DELETE', Buffer.alloc(0))).status).to.equal(405);
    expect((await send(`${cf.url}/npm/-/package/left-pad/dist-tags/beta`, 'PUT', Buffer.from('"1.3.0"'))).status).to.equal(405);
    expect((await send(`${cf.url}/npm/left-pad`, 'PATCH', Buffer.from('{}'))).status).to.equal(405);
    expect(registry.seen.length).to.equal(before);
  });

  it('with the upstream down: documents STALE, tarballs HIT, relays and unknown packages 502', async () => {
    const dataDir = cf.dataDir;
    await request(`${cf.url}/npm/with-deps`, { headers: ABBREVIATED });
    await request(`${cf.url}/npm/with-deps/-/with-deps-0.1.0.tgz`);
    await cf.stop();
    cf = await start({ upstream: 'http://127.0.0.1:9/', ttl: { mutable: 0 } }, { dataDir });
    try {
      const document = await request(`${cf.url}/npm/with-deps`, { headers: ABBREVIATED });
      expect(document.status).to.equal(200);
      expect(document.headers['x-cache-status']).to.equal('STALE');
      expect(json(document.body).versions['0.1.0'].dist.tarball).to.equal(`${cf.url}/npm/with-deps/-/with-deps-0.1.0.tgz`);
      const tarball = await request(`${cf.url}/npm/with-deps/-/with-deps-0.1.0.tgz`);
      expect(tarball.headers['x-cache-status']).to.equal('HIT');
      expect(tarball.body.equals(tarballs.withDeps)).to.equal(true);
      expect((await request(`${cf.url}/npm/never-seen`, { headers: FULL })).status).to.equal(502);
      const audit = await send(`${cf.url}/npm/-/npm/v1/security/advisories/bulk`, 'POST', Buffer.from('{}'), { 'content-type': 'application/json' });
      expect(audit.status).to.equal(502);
      expect(audit.body.toString()).to.include('CF_ERR_UPSTREAM_UNAVAILABLE');
    } finally {
      await cf.stop();
      cf = await start({}, { dataDir });
    }
  });

  it('revalidates a document after its TTL with the upstream\'s ETag', async () => {
    const dataDir = cf.dataDir;
    await cf.stop();
    cf = await start({ ttl: { mutable: 0 } }, { dataDir });
    await request(`${cf.url}/npm/@acme%2futil`, { headers: FULL });
    const res = await request(`${cf.url}/npm/@acme%2futil`, { headers: FULL });
    expect(res.headers['x-cache-status']).to.equal('REVALIDATED');
    const last = registry.seen.filter((r) => /^\/@acme%2futil$/i.test(r.url)).at(-1)!;
    expect(last.headers['if-none-match']).to.match(/^"/);
  });

  it('sends its token to a private upstream and never shows it in errors', async () => {
    const token = 'npm_s3cr3tT0kenValue';
    registry.requiredAuth = `Bearer ${token}`;
    const dataDir = cf.dataDir;
    await cf.stop();
    process.env.CF_TEST_NPM_TOKEN = token;
    try {
      cf = await start({ token: '${CF_TEST_NPM_TOKEN}' }, { dataDir }); // eslint-disable-line no-template-curly-in-string
      const secret = packTarball('@private/thing', '1.0.0');
      registry.publish('@private/thing', { version: '1.0.0', tarball: secret });
      const res = await request(`${cf.url}/npm/@private/thing/-/thing-1.0.0.tgz`);
      expect(res.status).to.equal(200);
      expect(res.body.equals(secret)).to.equal(true);
      const asked = registry.seen.filter((r) => r.url.includes('private'));
      expect(asked.map((r) => r.url)).to.deep.equal(['/@private%2fthing', '/@private/thing/-/thing-1.0.0.tgz']);
      for (const r of asked) expect(r.headers.authorization).to.equal(`Bearer ${token}`);
      await cf.stop();
      cf = await start({ token: 'wrong-token-value' }, { dataDir });
      const refused = await request(`${cf.url}/npm/never-fetched-${Date.now()}`, { headers: FULL });
      expect(refused.status).to.equal(502);
      expect(refused.body.toString()).not.to.include('wrong-token-value');
    } finally {
      registry.requiredAuth = undefined;
      delete process.env.CF_TEST_NPM_TOKEN;
    }
  });
});
