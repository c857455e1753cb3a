import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { FakeUpstream, ManualClock, request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';

const TTL_MS = 60_000;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A Packages index listing `files` (pool path → bytes). */
function packages(files: Record<string, Buffer>): Buffer {
  return Buffer.from(Object.entries(files).map(([file, body], i) =>
    `Package: p${i}\nVersion: 1\nFilename: ${file}\nSize: ${body.length}\nSHA256: ${sha256(body)}\n`).join('\n'));
}

/** A (not really signed: the cache leaves signatures to apt) clear-signed InRelease listing `indexes`. */
function inRelease(indexes: Record<string, Buffer>): Buffer {
  const lines = Object.entries(indexes).map(([name, body]) => ` ${sha256(body)} ${body.length} ${name}`);
  return Buffer.from(`-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSuite: stable\nAcquire-By-Hash: yes\nSHA256:\n${lines.join('\n')}\n-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n`);
}

describe('plugin-apt: classes, coherence and verification against a fake archive', function () {
  this.timeout(60_000);
  const clock = new ManualClock();
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let base: string;

  /** Publishes a suite: InRelease listing Packages.gz (also by hash), which lists the pool files. */
  function publish(suite: string, files: Record<string, Buffer>): string {
    const index = gzipSync(packages(files));
    upstream.set(`/dists/${suite}/main/binary-amd64/Packages.gz`, { body: index });
    upstream.set(`/dists/${suite}/main/binary-amd64/by-hash/SHA256/${sha256(index)}`, { body: index });
    upstream.set(`/dists/${suite}/InRelease`, { body: inRelease({ 'main/binary-amd64/Packages.gz': index }), lastModified: new Date(clock.now()).toUTCString() });
    for (const [file, body] of Object.entries(files)) upstream.set(`/${file}`, { body });
    return sha256(index);
  }

  before(async () => {
    upstream = await new FakeUpstream().start();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-apt'],
      remotes: { debian: { type: 'apt', upstream: upstream.url, ttl: { mutable: `${TTL_MS}ms` }, client: { retries: 0 } } },
    }, { clock });
    base = `${cf.url}/debian`;
  });
  after(async () => {
    await cf?.cleanup();
    await upstream?.stop();
  });

  it('an index asked by name is the one its current InRelease lists: a newer InRelease makes it fetched again before it is served', async () => {
    const v1 = publish('coherent', { 'pool/main/a/a/a_1_amd64.deb': Buffer.from('a1') });
    expect((await request(`${base}/dists/coherent/InRelease`)).status).to.equal(200);
    const first = await request(`${base}/dists/coherent/main/binary-amd64/Packages.gz`);
    expect(sha256(first.body)).to.equal(v1);
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1);
    const v2 = publish('coherent', { 'pool/main/a/a/a_2_amd64.deb': Buffer.from('a2') });
    expect((await request(`${base}/dists/coherent/InRelease`)).status).to.equal(200);
    const second = await request(`${base}/dists/coherent/main/binary-amd64/Packages.gz`);
    expect(sha256(second.body)).to.equal(v2);
  });

  it('an index whose bytes differ from what its InRelease lists is refused (502), never stored', async () => {
    publish('skewed', {});
    upstream.set('/dists/skewed/main/binary-amd64/Packages.gz', { body: gzipSync(Buffer.from('Package: other\n')) });
    const r = await request(`${base}/dists/skewed/main/binary-amd64/Packages.gz`);
    expect(r.status).to.equal(502);
    expect(r.body.toString()).to.include('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
  });

  it('a pool file is verified against its Packages entry, and a re-published one (new hash) is fetched again: the old copy never wins', async () => {
    const file = 'pool/main/h/hello/hello_1_amd64.deb';
    const hash1 = publish('republish', { [file]: Buffer.from('hello version one') });
    await request(`${base}/dists/republish/InRelease`);
    expect((await request(`${base}/dists/republish/main/binary-amd64/by-hash/SHA256/${hash1}`)).status).to.equal(200);
    expect((await request(`${base}/${file}`)).body.toString()).to.equal('hello version one');
    expect((await request(`${base}/${file}`)).headers['x-cache-status']).to.equal('HIT');
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1);
    const hash2 = publish('republish', { [file]: Buffer.from('hello version TWO, rebuilt') });
    await request(`${base}/dists/republish/InRelease`);
    expect((await request(`${base}/dists/republish/main/binary-amd64/by-hash/SHA256/${hash2}`)).status).to.equal(200);
    const again = await request(`${base}/${file}`);
    expect(again.body.toString()).to.equal('hello version TWO, rebuilt');
    expect(again.headers['x-cache-status']).to.equal('MISS');
  });

  it('a pool file that differs from its Packages entry is refused with 502', async () => {
    const file = 'pool/main/c/corrupt/corrupt_1_amd64.deb';
    const hash = publish('corrupt', { [file]: Buffer.from('the real bytes') });
    await request(`${base}/dists/corrupt/InRelease`);
    await request(`${base}/dists/corrupt/main/binary-amd64/by-hash/SHA256/${hash}`);
    upstream.set(`/${file}`, { body: Buffer.from('the evil bytes') });
    expect((await request(`${base}/${file}`)).status).to.equal(502);
  });

  it('a pool file no index read through the cache lists is served checked on its length, and counted', async () => {
    upstream.set('/pool/main/u/unlisted/unlisted_1_all.deb', { body: Buffer.from('fetched before any update') });
    const r = await request(`${base}/pool/main/u/unlisted/unlisted_1_all.deb`);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('fetched before any update');
    const metrics = (await request(`${cf.url}/-/metrics`)).body.toString();
    expect(metrics).to.match(/cacheforge_apt_unlisted_pool_files_total\{remote="debian"\} [1-9]/);
  });

  it('a by-hash file is verified against its own name', async () => {
    const bytes = Buffer.from('an index');
    upstream.set(`/dists/x/main/by-hash/SHA256/${sha256(Buffer.from('other'))}`, { body: bytes });
    expect((await request(`${base}/dists/x/main/by-hash/SHA256/${sha256(Buffer.from('other'))}`)).status).to.equal(502);
  });

  it('InRelease is revalidated by apt\'s If-Modified-Since: a stored copy answers 304', async () => {
    publish('conditional', {});
    const first = await request(`${base}/dists/conditional/InRelease`);
    const since = first.headers['last-modified'];
    expect(since).to.be.a('string');
    const again = await request(`${base}/dists/conditional/InRelease`, { headers: { 'if-modified-since': since as string } });
    expect(again.status).to.equal(304);
  });

  it('Release.gpg follows its Release: a new Release brings a new signature, even while the old one is fresh by TTL', async () => {
    upstream.set('/dists/pair/Release', { body: Buffer.from('Suite: pair\nDate: one\n'), lastModified: new Date(clock.now()).toUTCString() });
    upstream.set('/dists/pair/Release.gpg', { body: Buffer.from('signature one') });
    expect((await request(`${base}/dists/pair/Release`)).body.toString()).to.include('one');
    expect((await request(`${base}/dists/pair/Release.gpg`)).body.toString()).to.equal('signature one');
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1);
    upstream.set('/dists/pair/Release', { body: Buffer.from('Suite: pair\nDate: two\n'), lastModified: new Date(clock.now()).toUTCString() });
    upstream.set('/dists/pair/Release.gpg', { body: Buffer.from('signature two') });
    // The signature is asked first: it still brings the Release it signs up to date.
    expect((await request(`${base}/dists/pair/Release.gpg`)).body.toString()).to.equal('signature two');
    expect((await request(`${base}/dists/pair/Release`)).body.toString()).to.include('two');
  });
});
