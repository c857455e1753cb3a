import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ManualClock, request, requirePrograms, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { AptArchive } from './support/archive.js';
import { AptClient } from './support/apt.js';

const TTL_MS = 60_000;
const clock = new ManualClock();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('plugin-apt: real apt-get through Cache Forge against a signed local archive', function () {
  this.timeout(600_000);
  let archive: AptArchive;
  let cf: RunningCacheForge;
  let mirror: AptClient;
  let proxied: AptClient;

  before(async function () {
    requirePrograms(this, ['apt-get', 'dpkg-deb', 'dpkg-scanpackages', 'apt-ftparchive', 'gpg', 'xz'], (p) => `apt-get install ${p === 'apt-ftparchive' ? 'apt-utils' : p.startsWith('dpkg') ? 'dpkg-dev' : p}`);
    archive = await AptArchive.build();
    await archive.start();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-apt'],
      remotes: { fixture: { type: 'apt', upstream: archive.url, ttl: { mutable: `${TTL_MS}ms` }, client: { retries: 0 } } },
    }, { clock });
    mirror = await AptClient.create(`deb [signed-by=${archive.key}] ${cf.url}/fixture/ stable main\n`);
    // Proxy mode: sources name the archive itself; apt sends absolute-form requests to the cache.
    proxied = await AptClient.create(`deb [signed-by=${archive.key}] ${archive.url} stable main\n`, { proxy: `${cf.url}/` });
  });
  after(async () => {
    await cf?.cleanup();
    await archive?.cleanup();
    await mirror?.cleanup();
    await proxied?.cleanup();
  });

  /** The bytes the archive's Packages lists for a package, by SHA256. */
  async function listedSha(name: string): Promise<string> {
    const packages = await readFile(path.join(archive.root, 'dists/stable/main/binary-amd64/Packages'), 'utf8');
    const stanza = packages.split('\n\n').find((s) => s.startsWith(`Package: ${name}\n`))!;
    return /^SHA256: (\w+)$/m.exec(stanza)![1]!;
  }

  async function expectInstalls(client: AptClient): Promise<void> {
    const update = await client.aptGet('update');
    expect(update.code, update.output).to.equal(0);
    expect(update.output).to.not.match(/^(W|E):/m);
    const download = await client.aptGet('download', 'cf-hello');
    expect(download.code, download.output).to.equal(0);
    expect(await client.downloaded()).to.deep.equal(['cf-hello_1.0-1_amd64.deb']);
    expect(sha256(await readFile(path.join(client.dir, 'dl', 'cf-hello_1.0-1_amd64.deb')))).to.equal(await listedSha('cf-hello'));
    const install = await client.aptGet('install', '-y', '--download-only', 'cf-greet');
    expect(install.code, install.output).to.equal(0);
    expect(await client.archived()).to.deep.equal(['cf-greet_1.0-1_amd64.deb', 'cf-hello_1.0-1_amd64.deb']);
  }

  it('as a sources.list mirror: update (InRelease, by-hash index), download, and install --download-only of a package with its dependency', async () => {
    await expectInstalls(mirror);
    const asked = archive.requests.map((r) => r.path);
    expect(asked).to.include('/debian/dists/stable/InRelease');
    expect(asked.some((p) => /\/binary-amd64\/by-hash\/SHA(256|512)\//.test(p)), asked.join('\n')).to.equal(true);
    expect(asked).to.include('/debian/pool/main/c/cf-greet/cf-greet_1.0-1_amd64.deb');
  });

  it('never serves a pool file whose bytes differ from its Packages entry, asked twice; the upstream was asked again each time', async () => {
    for (let i = 0; i < 2; i++) {
      const before = archive.requests.filter((r) => r.path.endsWith('cf-bad_1.0-1_amd64.deb')).length;
      const r = await mirror.aptGet('download', 'cf-bad');
      expect(r.code, r.output).to.not.equal(0);
      expect(await mirror.downloaded()).to.not.include('cf-bad_1.0-1_amd64.deb');
      const direct = await request(`${cf.url}/fixture/pool/main/c/cf-bad/cf-bad_1.0-1_amd64.deb`);
      expect(direct.status).to.equal(502);
      expect(archive.requests.filter((r) => r.path.endsWith('cf-bad_1.0-1_amd64.deb')).length).to.be.greaterThan(before);
    }
  });

  it('in proxy mode (Acquire::http::Proxy): the absolute-form requests for the archive are served by its remote', async () => {
    await expectInstalls(proxied);
    const hit = await request(`${archive.url}pool/main/c/cf-hello/cf-hello_1.0-1_amd64.deb`.replace(archive.url, `${cf.url}/`), { path: `${archive.url}pool/main/c/cf-hello/cf-hello_1.0-1_amd64.deb` });
    expect(hit.status).to.equal(200);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
  });

  it('in proxy mode, a target no apt remote mirrors is refused with 403 naming the config to add (never an open proxy)', async () => {
    const r = await request(`${cf.url}/`, { path: 'http://127.0.0.1:9/debian/dists/stable/InRelease' });
    expect(r.status).to.equal(403);
    expect(r.body.toString()).to.match(/remote/i);
  });

  it('with the archive down and every TTL past: update answers from the stored InRelease and indexes, and stored packages download, as mirror and as proxy', async () => {
    await cf.fillsSettled();
    await archive.stop();
    clock.advance(TTL_MS * 2);
    for (const client of [mirror, proxied]) {
      await client.forget();
      await expectInstalls(client);
    }
    const inRelease = await request(`${cf.url}/fixture/dists/stable/InRelease`);
    expect(inRelease.status).to.equal(200);
    expect(inRelease.headers['x-cache-status']).to.equal('STALE');
  });

  it('restarted with the archive still down, the cache answers update and the stored packages from disk', async () => {
    await cf.fillsSettled();
    await cf.stop();
    // The same port: the lists apt keeps are named after the URL it fetched them from.
    const port = Number(new URL(cf.url).port);
    cf = await startCacheForge({
      server: { port },
      plugins: ['@cacheforge/plugin-apt'],
      remotes: { fixture: { type: 'apt', upstream: archive.url, ttl: { mutable: `${TTL_MS}ms` }, client: { retries: 0 } } },
    }, { clock, dataDir: cf.dataDir });
    // A client that updated before the restart asks for a package without updating again: the
    // cache has read no index yet, and still answers from what it stored.
    await mirror.reset('dl');
    const r = await mirror.aptGet('download', 'cf-greet');
    expect(r.code, r.output).to.equal(0);
    expect(await mirror.downloaded()).to.deep.equal(['cf-greet_1.0-1_amd64.deb']);
    const fresh = await AptClient.create(`deb [signed-by=${archive.key}] ${cf.url}/fixture/ stable main\n`);
    try {
      await expectInstalls(fresh);
    } finally {
      await fresh.cleanup();
    }
  });
});
