import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { FakeUpstream, ManualClock, request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { serveRepo } from './support/synthetic-repo.js';

const clock = new ManualClock();
const TTL_MS = 60_000;
const ROOT = 'releases/40/Everything/x86_64/os/';
const sha = (a: string, b: Buffer) => createHash(a).update(b).digest('hex');
const bytes = (text: string, size: number) => Buffer.from(text.repeat(Math.ceil(size / text.length)).slice(0, size));

describe('plugin-rpm: the protocol (repomd, signatures, hashed metadata, packages, ranges, mirrors)', function () {
  this.timeout(60_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let base: string;
  const hello = { href: 'Packages/h/hello-1.0-1.noarch.rpm', bytes: bytes('hello-rpm ', 5000) };
  const old = { href: 'Packages/o/old-1.0-1.noarch.rpm', bytes: bytes('old-rpm ', 3000), checksum: 'sha1' as const };
  const tampered = { href: 'Packages/t/tampered-1.0-1.noarch.rpm', bytes: bytes('good ', 4000), served: bytes('evil ', 4000) };
  const zck = bytes('zchunk-metadata ', 300_000);
  const zckHref = `repodata/${sha('sha256', zck)}-primary.xml.zck`;
  const badMeta = bytes('filelists ', 2000);
  const badHref = `repodata/${'ab'.repeat(32)}-filelists.xml.gz`;

  before(async () => {
    upstream = await new FakeUpstream().start();
    serveRepo(upstream, ROOT, [hello, old, tampered], [{ type: 'primary_zck', href: zckHref, bytes: zck }, { type: 'filelists', href: badHref, bytes: badMeta }]);
    upstream.set(`/${ROOT}${zckHref}`, { body: zck });
    upstream.set(`/${ROOT}${badHref}`, { body: bytes('tampered ', 2000) });
    upstream.set(`/${ROOT}repodata/repomd.xml.asc`, { body: Buffer.from('signature-1') });
    upstream.set(`/${ROOT}Packages/u/unlisted-1.0-1.noarch.rpm`, { body: bytes('unlisted ', 1000) });
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-rpm'],
      remotes: { fedora: { type: 'rpm', upstream: upstream.url, ttl: { mutable: `${TTL_MS}ms` }, client: { retries: 0 } } },
    }, { clock });
    base = `${cf.url}/fedora/`;
  });
  after(async () => {
    await cf?.cleanup();
    await upstream?.stop();
  });

  it('repomd.xml is revalidated by the proxy itself and answers 304 to a client that asks with its ETag', async () => {
    const first = await request(`${base}${ROOT}repodata/repomd.xml`);
    expect(first.status).to.equal(200);
    const etag = first.headers.etag as string;
    expect(etag).to.be.a('string');
    const again = await request(`${base}${ROOT}repodata/repomd.xml`, { headers: { 'if-none-match': etag } });
    expect(again.status).to.equal(304);
  });

  it('repomd.xml.asc goes out with the repomd.xml it signs: a new repomd.xml brings its new signature', async () => {
    expect((await request(`${base}${ROOT}repodata/repomd.xml.asc`)).body.toString()).to.equal('signature-1');
    const next = serveRepo(upstream, ROOT, [hello, old, tampered], [{ type: 'primary_zck', href: zckHref, bytes: zck }, { type: 'filelists', href: badHref, bytes: badMeta }, { type: 'other', href: 'repodata/other.xml.gz', bytes: Buffer.from('x') }]);
    upstream.set(`/${ROOT}repodata/repomd.xml.asc`, { body: Buffer.from('signature-2') });
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1);
    expect((await request(`${base}${ROOT}repodata/repomd.xml`)).body.equals(next.repomd)).to.equal(true);
    // The signature's own TTL has not run out in its old variant; the new repomd.xml still gets the new one.
    expect((await request(`${base}${ROOT}repodata/repomd.xml.asc`)).body.toString()).to.equal('signature-2');
  });

  it('checksum-named metadata is verified against repomd.xml: bytes that differ are refused with 502', async () => {
    const bad = await request(`${base}${ROOT}${badHref}`);
    expect(bad.status).to.equal(502);
    const good = await request(`${base}${ROOT}${zckHref}`);
    expect(good.status).to.equal(200);
    expect(good.body.equals(zck)).to.equal(true);
  });

  it('zchunk-shaped Range requests: the lead, then several ranges in one multipart/byteranges answer', async () => {
    await request(`${base}${ROOT}${zckHref}`);
    await cf.fillsSettled();
    const lead = await request(`${base}${ROOT}${zckHref}`, { headers: { range: 'bytes=0-1023' } });
    expect(lead.status).to.equal(206);
    expect(lead.body.equals(zck.subarray(0, 1024))).to.equal(true);
    const multi = await request(`${base}${ROOT}${zckHref}`, { headers: { range: 'bytes=1024-2047,100000-100099,299990-299999' } });
    expect(multi.status).to.equal(206);
    const type = String(multi.headers['content-type']);
    expect(type).to.match(/^multipart\/byteranges; boundary=/);
    const text = multi.body.toString('latin1');
    for (const [start, end] of [[1024, 2047], [100000, 100099], [299990, 299999]] as const) {
      expect(text.toLowerCase()).to.contain(`content-range: bytes ${start}-${end}/${zck.length}`);
      expect(text).to.contain(zck.subarray(start, end + 1).toString('latin1'));
    }
    expect(upstream.requests.filter((r) => r.path === `/${ROOT}${zckHref}` && r.headers.range)).to.deep.equal([]);
  });

  it('a package is verified against the primary index (sha256 and sha1) and then served from the store', async () => {
    const got = await request(`${base}${ROOT}${hello.href}`);
    expect(got.status).to.equal(200);
    expect(got.body.equals(hello.bytes)).to.equal(true);
    const sha1 = await request(`${base}${ROOT}${old.href}`);
    expect(sha1.status).to.equal(200);
    await cf.fillsSettled();
    const hit = await request(`${base}${ROOT}${hello.href}`, { headers: { range: 'bytes=10-19' } });
    expect(hit.status).to.equal(206);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(hit.body.equals(hello.bytes.subarray(10, 20))).to.equal(true);
  });

  it('a package whose bytes differ from its primary checksum is refused (502) and not stored', async () => {
    for (let i = 0; i < 2; i += 1) expect((await request(`${base}${ROOT}${tampered.href}`)).status).to.equal(502);
    expect(upstream.count(`/${ROOT}${tampered.href}`, 'GET')).to.be.at.least(2);
  });

  it('a package no primary lists is kept on its length, counted in the metrics', async () => {
    const got = await request(`${base}${ROOT}Packages/u/unlisted-1.0-1.noarch.rpm`);
    expect(got.status).to.equal(200);
    const metrics = (await request(`${cf.url}/-/metrics`)).body.toString();
    expect(metrics).to.match(/cacheforge_rpm_unlisted_packages_total\{remote="fedora"\} 1/);
  });

  it('a metalink names this cache with the hashes of the repomd.xml it serves; mirrorlists name this cache', async () => {
    const repomd = (await request(`${base}${ROOT}repodata/repomd.xml`)).body;
    const link = await request(`${base}metalink?repo=fedora-40&arch=x86_64`);
    expect(link.status).to.equal(200);
    expect(link.body.toString()).to.contain(`<hash type="sha256">${sha('sha256', repomd)}</hash>`);
    expect(link.body.toString()).to.contain(`<size>${repomd.length}</size>`);
    expect(link.body.toString()).to.contain(`>${base}${ROOT}repodata/repomd.xml</url>`);
    expect((await request(`${base}mirrorlist?arch=x86_64&repo=BaseOS-9`)).body.toString()).to.equal(`${base}9/BaseOS/x86_64/os/\n`);
    expect((await request(`${base}mirrorlist/9/appstream`)).body.toString()).to.equal(`${base}9/AppStream/$basearch/os/\n`);
    expect((await request(`${base}mirrorlist?repo=epel-9&arch=aarch64`)).body.toString()).to.equal(`${base}9/Everything/aarch64/\n`);
    expect((await request(`${base}metalink?repo=nonsense`)).status).to.equal(404);
  });
});
