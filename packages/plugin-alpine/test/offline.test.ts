import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeUpstream, LogCapture, ManualClock, request, requirePrograms, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { generateMirror, serveFile, serveMirror, type MirrorFiles } from './support/apk-fixture.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APK = { headers: { 'user-agent': 'libfetch/2.0' } };
const REPOS = [
  { dir: 'v3.20/main/x86_64', signed: true, packages: ['hello-fixture=1.0-r0', 'never-asked=1.0-r0'] },
  { dir: 'edge/community/aarch64', signed: false, packages: ['hello-fixture=1.1-r0'] },
] as const;

describe('plugin-alpine: while the CDN is down', function () {
  this.timeout(60_000);
  let files: MirrorFiles;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const logs = new LogCapture();
  const get = (file: string) => request(`${cf.url}/alpine/${file}`, APK);

  before(async function () {
    requirePrograms(this, ['python3', 'openssl']);
    files = await generateMirror(REPOS);
    upstream = await new FakeUpstream().start();
    serveMirror(upstream, files);
    serveFile(upstream, 'v3.20/main/x86_64/sideloaded-1.0-r0.apk', files.get('v3.20/main/x86_64/hello-fixture-1.0-r0.apk')!);
    cf = await startCacheForge({
      plugins: [PLUGIN],
      // TTL 0: every index request after the first asks the upstream, so the outage is seen at once.
      remotes: { alpine: { type: 'alpine', upstream: `${upstream.url}alpine/`, ttl: { mutable: 0 }, client: { retries: 0 } } },
    }, { logLevel: 'warn', logTo: logs });
    // A build ran while the CDN was up: `apk add` of each repository's package, and one no index lists.
    for (const repo of REPOS) {
      expect((await get(`${repo.dir}/APKINDEX.tar.gz`)).status).to.equal(200);
      expect((await get(`${repo.dir}/${repo.packages[0].replace('=', '-')}.apk`)).status).to.equal(200);
    }
    expect((await get('v3.20/main/x86_64/sideloaded-1.0-r0.apk')).status).to.equal(200);
    await cf.fillsSettled();
    await upstream.stop();
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('the index is served STALE, byte for byte', async () => {
    for (const repo of REPOS) {
      const r = await get(`${repo.dir}/APKINDEX.tar.gz`);
      expect([r.status, r.headers['x-cache-status'], r.body.equals(files.get(`${repo.dir}/APKINDEX.tar.gz`)!)]).to.deep.equal([200, 'STALE', true]);
    }
  });

  it('stored packages are served from the cache', async () => {
    for (const repo of REPOS) {
      const file = `${repo.dir}/${repo.packages[0].replace('=', '-')}.apk`;
      const r = await get(file);
      expect([r.status, r.headers['x-cache-status'], r.body.equals(files.get(file)!)]).to.deep.equal([200, 'HIT', true]);
    }
    expect((await get('v3.20/main/x86_64/sideloaded-1.0-r0.apk')).status).to.equal(200);
  });

  it('a package never fetched fails as a gateway error, not as a package that does not exist', async () => {
    const r = await get('v3.20/main/x86_64/never-asked-1.0-r0.apk');
    expect(r.status).to.equal(502);
    expect((JSON.parse(r.body.toString()) as { errors: Array<{ code: string }> }).errors[0]!.code).to.equal('CF_ERR_UPSTREAM_DOWN');
  });

  it('logged the package no index lists once, when it was stored', () => {
    const lines = logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('no stored APKINDEX lists this package'));
    expect(lines.map((l) => l.path)).to.deep.equal(['v3.20/main/x86_64/sideloaded-1.0-r0.apk']);
    expect(lines[0]).to.include({ plugin: 'alpine', remote: 'alpine', index: 'v3.20/main/x86_64/APKINDEX.tar.gz' });
  });
});

describe('plugin-alpine: the index TTL (default 5 minutes)', function () {
  this.timeout(60_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const clock = new ManualClock();
  const index = 'v3.20/main/x86_64/APKINDEX.tar.gz';

  before(async function () {
    requirePrograms(this, ['python3', 'openssl']);
    const files = await generateMirror([{ dir: 'v3.20/main/x86_64', signed: true, packages: ['hello-fixture=1.0-r0'] }]);
    upstream = await new FakeUpstream().start();
    serveMirror(upstream, files);
    cf = await startCacheForge({ plugins: [PLUGIN], remotes: { alpine: { type: 'alpine', upstream: `${upstream.url}alpine/` } } }, { clock });
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('serves a stored index without asking for 5 minutes, then revalidates it with the upstream', async () => {
    const status = async () => (await request(`${cf.url}/alpine/${index}`, APK)).headers['x-cache-status'];
    expect(await status()).to.equal('MISS');
    await cf.fillsSettled();
    clock.advance(5 * 60_000 - 1000);
    expect(await status()).to.equal('HIT');
    clock.advance(2000);
    expect(await status()).to.equal('REVALIDATED');
    expect(upstream.count(`/alpine/${index}`)).to.equal(2);
  });

  it('keeps a package forever: no revalidation however old', async () => {
    const file = 'v3.20/main/x86_64/hello-fixture-1.0-r0.apk';
    expect((await request(`${cf.url}/alpine/${file}`, APK)).status).to.equal(200);
    await cf.fillsSettled();
    clock.advance(365 * 24 * 3600_000);
    expect((await request(`${cf.url}/alpine/${file}`, APK)).headers['x-cache-status']).to.equal('HIT');
    expect(upstream.count(`/alpine/${file}`)).to.equal(1);
  });
});
