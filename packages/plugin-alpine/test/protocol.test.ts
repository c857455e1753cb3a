import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeUpstream, request, requirePrograms, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { memberAt } from '../src/gzip-members.js';
import { generateMirror, REPOS, serveFile, serveMirror, type MirrorFiles } from './support/apk-fixture.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** What apk-tools 2 sends (recorded from a real `apk add`, `apk fetch`, `apk update`): no validators, no Range. */
const APK = { headers: { 'user-agent': 'libfetch/2.0' } };
const errorOf = (body: Buffer) => (JSON.parse(body.toString()) as { errors: Array<{ code: string; message: string }> }).errors[0]!;

/** The mirror with two packages spoilt after indexing: one a byte longer than `S:`, one whose control member differs from `C:`. */
async function spoilt(files: MirrorFiles): Promise<MirrorFiles> {
  const out = new Map(files);
  const oversized = 'v3.20/main/x86_64/oversized-1.0-r0.apk';
  out.set(oversized, Buffer.concat([files.get(oversized)!, Buffer.from('\n')]));
  const tampered = 'v3.20/main/x86_64/tampered-1.0-r0.apk';
  const bytes = Buffer.from(files.get(tampered)!);
  const read = async (p: number, l: number) => bytes.subarray(p, p + l);
  const signatureMember = await memberAt(read, bytes.length, 0);
  // The control member's gzip MTIME: it still inflates to the same tar, its SHA1 is another.
  bytes[signatureMember.end + 4] = bytes[signatureMember.end + 4]! ^ 0x01;
  out.set(tampered, bytes);
  return out;
}

describe('plugin-alpine: apk protocol through Cache Forge (fixture from gen_apk_repo.py)', function () {
  this.timeout(60_000);
  let files: MirrorFiles;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const url = (remote: string, file: string) => `${cf.url}/${remote}/${file}`;

  before(async function () {
    requirePrograms(this, ['python3', 'openssl']);
    files = await generateMirror();
    upstream = await new FakeUpstream().start();
    serveMirror(upstream, await spoilt(files));
    cf = await startCacheForge({
      plugins: [PLUGIN],
      remotes: {
        alpine: { type: 'alpine', upstream: `${upstream.url}alpine/` },
        // The TTL run out at once: every index request is a revalidation.
        fresh: { type: 'alpine', upstream: `${upstream.url}alpine/`, ttl: { mutable: 0 } },
        // Bodies stream at once (as packages over 16 MiB do): a bad one can only be cut short.
        streaming: { type: 'alpine', upstream: `${upstream.url}alpine/`, client: { verifyBeforeSend: 0 } },
      },
    });
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  for (const repo of REPOS) {
    const [first] = repo.packages;
    const file = `${repo.dir}/${first!.replace('=', '-')}.apk`;
    const index = `${repo.dir}/APKINDEX.tar.gz`;

    it(`apk add from ${repo.dir} (${repo.signed ? 'signed' : 'unsigned'}): the index, then the package, byte for byte`, async () => {
      const idx = await request(url('alpine', index), APK);
      expect([idx.status, idx.headers['x-cache-status']]).to.deep.equal([200, 'MISS']);
      expect(idx.body.equals(files.get(index)!)).to.equal(true);
      const apk = await request(url('alpine', file), APK);
      expect([apk.status, apk.headers['x-cache-status']]).to.deep.equal([200, 'MISS']);
      expect(apk.body.equals(files.get(file)!)).to.equal(true);
      // The package was verified against the index just stored: no second index fetch.
      expect(upstream.count(`/alpine/${index}`)).to.equal(1);
      expect(upstream.count(`/alpine/${file}`)).to.equal(1);
    });

    it(`apk fetch from ${repo.dir}: both answered from the cache`, async () => {
      const before = upstream.requests.length;
      for (const f of [index, file]) {
        const r = await request(url('alpine', f), APK);
        expect([r.status, r.headers['x-cache-status'], r.body.equals(files.get(f)!)]).to.deep.equal([200, 'HIT', true]);
      }
      expect(upstream.requests.length).to.equal(before);
    });
  }

  it('apk update: Cache Forge revalidates the index with the upstream validators itself (apk sends none)', async () => {
    const index = 'v3.20/main/aarch64/APKINDEX.tar.gz';
    expect((await request(url('fresh', index), APK)).status).to.equal(200);
    await cf.fillsSettled();
    const again = await request(url('fresh', index), APK);
    expect([again.status, again.headers['x-cache-status'], again.body.equals(files.get(index)!)]).to.deep.equal([200, 'REVALIDATED', true]);
    const asked = upstream.requests.filter((r) => r.path === `/alpine/${index}`).at(-1)!;
    expect(asked.headers['if-none-match']).to.be.a('string');
  });

  it('apk update sees a new index once the TTL has run out', async () => {
    const index = 'edge/community/x86_64/APKINDEX.tar.gz';
    expect((await request(url('fresh', index), APK)).body.equals(files.get(index)!)).to.equal(true);
    await cf.fillsSettled();
    const newer = files.get('v3.20/main/aarch64/APKINDEX.tar.gz')!;
    serveFile(upstream, index, newer);
    try {
      const r = await request(url('fresh', index), APK);
      expect([r.status, r.body.equals(newer)]).to.deep.equal([200, true]);
      expect(r.headers['x-cache-status']).to.be.oneOf(['MISS', 'REVALIDATED']);
    } finally {
      serveFile(upstream, index, files.get(index)!);
    }
  });

  it('a package asked before its index: the index is read through the pipeline, stored, and then a hit', async () => {
    const file = 'edge/community/x86_64/edge-only-0.1-r0.apk';
    const r = await request(url('alpine', file), APK);
    expect([r.status, r.body.equals(files.get(file)!)]).to.deep.equal([200, true]);
    const index = await request(url('alpine', 'edge/community/x86_64/APKINDEX.tar.gz'), APK);
    expect(index.headers['x-cache-status']).to.equal('HIT');
  });

  it('a package larger than its S: is never served whole nor stored (asked twice)', async () => {
    const file = 'v3.20/main/x86_64/oversized-1.0-r0.apk';
    for (let i = 1; i <= 2; i++) {
      const r = await request(url('alpine', file), APK);
      expect(r.status).to.equal(502);
      expect(errorOf(r.body).code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
      expect(errorOf(r.body).message).to.contain(`${files.get(file)!.length + 1} bytes, the index lists ${files.get(file)!.length}`);
      // Fetched once and retried once per request: nothing was stored.
      expect(upstream.count(`/alpine/${file}`)).to.equal(2 * i);
    }
  });

  it('a package whose control member differs from C: is never served whole nor stored (asked twice)', async () => {
    const file = 'v3.20/main/x86_64/tampered-1.0-r0.apk';
    for (let i = 1; i <= 2; i++) {
      const r = await request(url('alpine', file), APK);
      expect(r.status).to.equal(502);
      expect(errorOf(r.body).code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
      expect(errorOf(r.body).message).to.contain("control member's checksum");
      expect(upstream.count(`/alpine/${file}`)).to.equal(2 * i);
    }
  });

  it('a streamed package whose control member differs from C: breaks off before its end (asked twice)', async () => {
    const file = 'v3.20/main/x86_64/tampered-1.0-r0.apk';
    for (let i = 0; i < 2; i++) {
      const r = await request(url('streaming', file), APK);
      expect(r.status === 502 || !r.complete, `request ${i + 1}: ${r.status}, complete ${r.complete}`).to.equal(true);
      expect(r.body.equals(files.get(file)!)).to.equal(false);
    }
  });

  it('a package published after its index was stored: the index is revalidated once and the package verified against it', async () => {
    const dir = 'v3.20/main/aarch64';
    expect((await request(url('alpine', `${dir}/APKINDEX.tar.gz`), APK)).headers['x-cache-status']).to.equal('HIT');
    const metric = async () => /cacheforge_alpine_unlisted_packages_total\{remote="alpine"\} (\d+)/.exec((await request(`${cf.url}/-/metrics`)).body.toString())?.[1];
    const unlistedBefore = await metric();
    // The repository now lists a second package (its index from x86_64, which lists musl-fixture).
    const newer = files.get('v3.20/main/x86_64/APKINDEX.tar.gz')!;
    serveFile(upstream, `${dir}/APKINDEX.tar.gz`, newer);
    serveFile(upstream, `${dir}/musl-fixture-1.2.5-r0.apk`, files.get('v3.20/main/x86_64/musl-fixture-1.2.5-r0.apk')!);
    const r = await request(url('alpine', `${dir}/musl-fixture-1.2.5-r0.apk`), APK);
    expect([r.status, r.headers['x-cache-status']]).to.deep.equal([200, 'MISS']);
    expect(await metric()).to.equal(unlistedBefore);
    expect((await request(url('alpine', `${dir}/APKINDEX.tar.gz`), APK)).body.equals(newer)).to.equal(true);
  });

  it('a package no index lists is stored on its length and counted in cacheforge_alpine_unlisted_packages_total', async () => {
    const file = 'v3.20/main/x86_64/sideloaded-1.0-r0.apk';
    serveFile(upstream, file, files.get('v3.20/main/x86_64/hello-fixture-1.0-r0.apk')!);
    const metric = async () => /cacheforge_alpine_unlisted_packages_total\{remote="alpine"\} (\d+)/.exec((await request(`${cf.url}/-/metrics`)).body.toString())?.[1];
    expect(await metric()).to.equal('0');
    for (const status of ['MISS', 'HIT']) {
      const r = await request(url('alpine', file), APK);
      expect([r.status, r.headers['x-cache-status']]).to.deep.equal([200, status]);
    }
    // Once: the hit read no index.
    expect(await metric()).to.equal('1');
  });

  it('answers 404 for directory listings and query strings without asking the upstream', async () => {
    const before = upstream.requests.length;
    expect((await request(url('alpine', 'v3.20/main/x86_64/'), APK)).status).to.equal(404);
    expect((await request(url('alpine', 'v3.20/main/x86_64/APKINDEX.tar.gz?x=1'), APK)).status).to.equal(404);
    expect(upstream.requests.length).to.equal(before);
  });
});
