import { expect } from 'chai';
import http from 'node:http';
import pg from 'pg';
import * as Minio from 'minio';
import type { S3Storage } from '../../src/storage/s3/s3-storage.js';
import type { CliProcess } from '../../src/testing/cli-process.js';
import { FakeUpstream, generated, generatedSha256 } from '../../src/testing/fake-upstream.js';
import { hashGet } from '../../src/testing/http.js';
import { expectCompleteBodies } from '../support/http.js';
import type { PgDatabase } from '../support/services.js';
import { startReplicas, type Replicas } from '../support/replicas.js';
import { waitFor } from '../../src/testing/wait.js';

/**
 * Two real `cacheforge start` processes sharing one S3 bucket, one PostgreSQL database and one
 * Redis, behind no balancer: the test spreads its clients over both.
 */
describe('scale-out: two replicas on S3 + PostgreSQL + Redis', function () {
  this.timeout(180_000);
  const MiB = 1024 * 1024;
  const big = generated(50 * MiB, 41);
  const slow = generated(24 * MiB, 42);
  let set: Replicas | undefined;
  let db: PgDatabase;
  let storage: S3Storage;
  let upstream: FakeUpstream;
  let replicas: CliProcess[] = [];
  let prefix: string;

  async function blobObjects(): Promise<string[]> {
    const names: string[] = [];
    for await (const item of storage.client.listObjectsV2(storage.bucket, prefix, true) as AsyncIterable<Minio.BucketItem>) if (item.name) names.push(item.name);
    return names.filter((n) => n.includes('/sha256/'));
  }
  async function records(key: string): Promise<number> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query('SELECT 1 FROM cf_artifacts WHERE key = $1', [key])).rowCount ?? 0;
    } finally {
      await client.end();
    }
  }

  before(async function () {
    upstream = await new FakeUpstream().start();
    upstream.set('/big.tar.gz', { body: big });
    upstream.set('/small.txt', { body: Buffer.from('fetched once, shared by both replicas\n') });
    // 3 MiB/s: the body takes ~8 s, so a replica can be killed in the middle of it.
    upstream.set('/slow.iso', { body: slow, rate: 3 * MiB });
    set = await startReplicas(this, {
      name: 'replicas', cache: { lock: { ttl: '2s', wait: '60s' } },
      config: { remotes: { files: { type: 'generic', upstream: upstream.url } } },
    });
    ({ replicas, db, storage, prefix } = set);
  });
  after(async function () {
    this.timeout(60_000);
    await set?.stop();
    await upstream?.stop();
  });

  it('32 concurrent misses of one 50 MiB artifact spread over both replicas make exactly 1 upstream request and 32 identical bodies', async () => {
    const bigSha = generatedSha256(big);
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => hashGet(`${replicas[i % 2]!.url}/files/big.tar.gz`)));
    expect(upstream.count('/big.tar.gz')).to.equal(1);
    expectCompleteBodies(results, { size: big.size, sha256: bigSha });
    // Both replicas answered (one filled, the other waited for its commit and served from S3).
    const byReplica = [0, 1].map((n) => results.filter((_, i) => i % 2 === n).map((r) => r.headers['x-cache-status']));
    expect(byReplica.flat()).to.include('MISS');
    expect(new Set(byReplica[0]).size + new Set(byReplica[1]).size).to.be.at.least(2);
    await waitFor('the blob in S3', async () => (await storage.stat(bigSha)) !== undefined, 20_000);
    expect(await records('big.tar.gz')).to.equal(1);
  });

  it('an artifact fetched through one replica is a HIT on the other', async () => {
    const first = await hashGet(`${replicas[0]!.url}/files/small.txt`);
    expect(first.headers['x-cache-status']).to.equal('MISS');
    await waitFor('the record to be shared', async () => (await records('small.txt')) === 1, 10_000);
    const second = await hashGet(`${replicas[1]!.url}/files/small.txt`);
    expect(second.headers['x-cache-status']).to.equal('HIT');
    expect(second.sha256).to.equal(first.sha256);
    expect(upstream.count('/small.txt')).to.equal(1);
  });

  it('a file the upstream does not have, asked of both replicas at once, reaches the upstream once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => hashGet(`${replicas[i % 2]!.url}/files/missing.tgz`)));
    for (const r of results) expect(r.status).to.equal(404);
    expect(upstream.count('/missing.tgz')).to.equal(1);
  });

  it('SIGKILL of a replica mid-download leaves no partial object, and the other serves the artifact on the next request', async () => {
    const slowSha = generatedSha256(slow);
    const before = await blobObjects();
    const [victim, survivor] = replicas as [CliProcess, CliProcess];
    // Read a few MiB through the victim, then kill it while the upstream is still sending.
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${victim.url}/files/slow.iso`, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= 4 * MiB) { res.removeAllListeners('data'); resolve(bytes); }
        });
        res.on('error', () => undefined);
        res.on('aborted', () => undefined);
      });
      req.on('error', (err) => { if (!('code' in err && err.code === 'ECONNRESET')) reject(err); });
    });
    expect(received).to.be.below(slow.size);
    expect(await victim.stop('SIGKILL')).to.equal(null);
    replicas = [survivor];
    expect(await storage.stat(slowSha)).to.equal(undefined);
    expect(await blobObjects()).to.deep.equal(before);
    expect(await records('slow.iso')).to.equal(0);

    // The dead replica's lock runs out (ttl 2s); the survivor then fetches and serves it whole.
    const next = await hashGet(`${survivor.url}/files/slow.iso`);
    expect(next.status).to.equal(200);
    expect(next.complete).to.equal(true);
    expect(next.sha256).to.equal(slowSha);
    expect(upstream.count('/slow.iso')).to.equal(2);
    await waitFor('the blob in S3', async () => (await storage.stat(slowSha)) !== undefined, 20_000);
    expect(await blobObjects()).to.have.length(before.length + 1);
    expect(survivor.output()).to.not.match(/"level":"(error|fatal)"/);
  });
});
