import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as Minio from 'minio';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { FakeUpstream, generated, generatedSha256 } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { hashGet, request, sha256 } from '../../src/testing/http.js';
import { startS3, startS3rver, runId, UploadGate, type S3Endpoint, type S3ConfigInput } from '../support/services.js';
import { waitFor } from '../../src/testing/wait.js';

/** Cache Forge in this process on S3 (spool in its data folder), one generic remote on `upstream`. */
async function startOnS3(s3: S3Endpoint, upstream: FakeUpstream, s3options: { prefix: string } & Partial<S3ConfigInput>): Promise<RunningCacheForge> {
  const { prefix, ...rest } = s3options;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cf-s3-pipeline-'));
  return startCacheForge({
    storage: { s3: { ...s3.config(prefix), spool: path.join(dataDir, 'spool'), ...rest } },
    // Streamed as they arrive: clients follow the spool mid-fill.
    remotes: { files: { type: 'generic', upstream: upstream.url, client: { verifyBeforeSend: 0 } } },
  }, { dataDir });
}

async function stopAll(cf?: RunningCacheForge, upstream?: FakeUpstream, s3?: S3Endpoint): Promise<void> {
  await cf?.cleanup();
  await upstream?.stop();
  await s3?.stop();
}

/**
 * S3 cannot read an upload back before it completes, so clients of a fill follow a local spool
 * file while the upload runs; this is that path, end to end.
 */
describe('pipeline on S3 storage: clients follow the spool of a fill', function () {
  this.timeout(120_000);
  const MiB = 1024 * 1024;
  const slow = generated(8 * MiB, 21);
  let slowSha: string;
  let s3: S3Endpoint;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let storage: S3Storage;
  let prefix: string;

  async function objects(under: string): Promise<string[]> {
    const names: string[] = [];
    for await (const item of storage.client.listObjectsV2(storage.bucket, `${prefix}${under}`, true) as AsyncIterable<Minio.BucketItem>) if (item.name) names.push(item.name);
    return names;
  }
  const spoolFiles = async () => {
    const root = path.join(cf.dataDir, 'spool');
    const out: string[] = [];
    // The spool of fills (tmp/) and the staged uploads to S3 (upload/), of every process.
    for (const proc of await readdir(root).catch(() => [] as string[])) {
      for (const sub of ['tmp', 'upload']) out.push(...(await readdir(path.join(root, proc, sub)).catch(() => [] as string[])));
    }
    return out;
  };

  before(async () => {
    slowSha = generatedSha256(slow);
    s3 = await startS3();
    prefix = `spool-${runId()}/`;
    storage = new S3Storage(s3.options(prefix));
    await storage.init();
    upstream = await new FakeUpstream().start();
    // 4 MiB/s: the body takes ~2 s, long enough to see clients get bytes before it is uploaded.
    upstream.set('/slow.tar.gz', { body: slow, rate: 4 * MiB });
    cf = await startOnS3(s3, upstream, { prefix });
  });
  after(async () => { await stopAll(cf, upstream, s3); });

  it('32 clients of an uncached file stream it from the spool before the upload ends, with one upstream request', async () => {
    const results = await Promise.all(Array.from({ length: 32 }, () => hashGet(`${cf.url}/files/slow.tar.gz`)));
    const upstreamDone = Math.min(...results.map((r) => r.endAt));
    const started = Math.min(...results.map((r) => r.firstByteAt ?? Infinity));
    expect(upstream.count('/slow.tar.gz')).to.equal(1);
    for (const r of results) {
      expect(r.status).to.equal(200);
      expect(r.complete).to.equal(true);
      expect(r.sha256).to.equal(slowSha);
      expect(r.firstByteAt!).to.be.below(upstreamDone);
    }
    expect(started).to.be.below(upstreamDone);
    // Clients finish once the bytes are verified; the upload's commit (a server-side copy) follows.
    await waitFor('the blob to be committed to S3', async () => (await storage.stat(slowSha)) !== undefined, 20_000);
    expect(await objects(`sha256/${slowSha.slice(0, 2)}/`)).to.deep.equal([`${prefix}sha256/${slowSha.slice(0, 2)}/${slowSha}`]);
    expect(await objects('tmp/')).to.deep.equal([]);
    // The spool file goes right after the commit.
    await waitFor('the spool to be emptied', async () => (await spoolFiles()).length === 0, 5000);
  });

  it('serves a stored object from S3 as a HIT, whole and by range', async () => {
    const hit = await hashGet(`${cf.url}/files/slow.tar.gz`);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(hit.sha256).to.equal(slowSha);
    const ranged = await request(`${cf.url}/files/slow.tar.gz`, { headers: { range: 'bytes=5000000-5000099' } });
    expect(ranged.status).to.equal(206);
    expect(ranged.body.length).to.equal(100);
    expect(upstream.count('/slow.tar.gz')).to.equal(1);
  });

  it('an upstream body cut mid-way leaves nothing in the bucket or the spool, and the next request fetches it whole', async () => {
    const body = randomBytes(3 * MiB);
    upstream.set('/cut.tar.gz', { body, cutAfter: 2 * MiB });
    const broken = await request(`${cf.url}/files/cut.tar.gz`);
    expect(broken.complete).to.equal(false);
    expect(await storage.stat(sha256(body))).to.equal(undefined);
    expect(await objects('tmp/')).to.deep.equal([]);
    expect(await spoolFiles()).to.deep.equal([]);
    upstream.set('/cut.tar.gz', { body });
    const whole = await request(`${cf.url}/files/cut.tar.gz`);
    expect(whole.complete).to.equal(true);
    expect(sha256(whole.body)).to.equal(sha256(body));
    expect(upstream.count('/cut.tar.gz')).to.equal(2);
  });
});

describe('S3 storage with redirect: true', function () {
  this.timeout(60_000);
  let s3: S3Endpoint;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const body = randomBytes(600_000); // larger than hot.maxObjectBytes: served from storage

  before(async () => {
    s3 = await startS3();
    upstream = await new FakeUpstream().start();
    upstream.set('/pkg.tar.gz', { body });
    upstream.set('/small.txt', { body: Buffer.from('kept in memory') });
    cf = await startOnS3(s3, upstream, { prefix: `redirect-${runId()}/`, redirect: true, redirectExpiry: '2m' });
  });
  after(async () => { await stopAll(cf, upstream, s3); });

  it('streams the miss, then answers hits with a 302 to a presigned URL that serves the exact bytes, ranges included', async () => {
    const miss = await request(`${cf.url}/files/pkg.tar.gz`);
    expect(miss.status).to.equal(200);
    expect(sha256(miss.body)).to.equal(sha256(body));
    await waitFor('the blob to be committed', async () => (await request(`${cf.url}/files/pkg.tar.gz`)).status === 302, 20_000);
    const hit = await request(`${cf.url}/files/pkg.tar.gz`);
    expect(hit.status).to.equal(302);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(hit.headers['cache-control']).to.equal('no-store');
    const location = new URL(hit.headers.location!);
    expect(location.searchParams.get('X-Amz-Expires')).to.equal('120');
    const direct = await request(location.toString());
    expect(direct.status).to.equal(200);
    expect(sha256(direct.body)).to.equal(sha256(body));
    const forged = new URL(location);
    forged.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    expect((await request(forged.toString())).status).to.equal(403); // the URL is signed, not open
    const ranged = await request(location.toString(), { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).to.equal(206);
    expect(ranged.body.equals(body.subarray(100, 200))).to.equal(true);
    // HEAD and conditional requests are still answered here; small hot bodies are not redirected.
    expect((await request(`${cf.url}/files/pkg.tar.gz`, { method: 'HEAD' })).status).to.equal(200);
    expect((await request(`${cf.url}/files/pkg.tar.gz`, { headers: { 'if-none-match': `"${sha256(body)}"` } })).status).to.equal(304);
    await request(`${cf.url}/files/small.txt`);
    const small = await request(`${cf.url}/files/small.txt`);
    expect(small.status).to.equal(200);
    expect(small.body.toString()).to.equal('kept in memory');
    expect(upstream.count('/pkg.tar.gz')).to.equal(1);
  });
});

describe('S3 storage with a slow upload', function () {
  this.timeout(60_000);
  const gate = new UploadGate();
  let s3: S3Endpoint;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let storage: S3Storage;
  const body = generated(24 * 1024 * 1024, 33); // several 5 MiB parts: a multipart upload

  before(async () => {
    s3 = await startS3rver({ gate });
    const prefix = `gated-${runId()}/`;
    storage = new S3Storage(s3.options(prefix));
    await storage.init();
    upstream = await new FakeUpstream().start();
    upstream.set('/big.iso', { body });
    cf = await startOnS3(s3, upstream, { prefix });
  });
  after(async () => {
    gate.open();
    await stopAll(cf, upstream, s3);
  });

  it('serves a miss whole while S3 still holds back the upload, and commits it once S3 takes it', async () => {
    const sha = generatedSha256(body);
    // The upload is staged on local disk: the client is not held back by S3, which takes no part yet.
    const miss = await hashGet(`${cf.url}/files/big.iso`);
    expect(miss.complete).to.equal(true);
    expect(miss.sha256).to.equal(sha);
    expect(gate.held).to.be.at.least(1);
    expect(await storage.stat(sha)).to.equal(undefined);
    // Meanwhile the fill is still the one for this key: a second client joins it, no second fetch.
    const joined = await hashGet(`${cf.url}/files/big.iso`);
    expect(joined.sha256).to.equal(sha);
    expect(upstream.count('/big.iso')).to.equal(1);
    gate.open();
    await waitFor('the upload to be committed', async () => (await storage.stat(sha)) !== undefined, 30_000);
    const hit = await hashGet(`${cf.url}/files/big.iso`);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(hit.sha256).to.equal(sha);
    expect(upstream.count('/big.iso')).to.equal(1);
  });
});
