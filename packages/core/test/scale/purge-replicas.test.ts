import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { S3Storage } from '../../src/storage/s3/s3-storage.js';
import type { CliProcess } from '../../src/testing/cli-process.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request } from '../../src/testing/http.js';
import { startReplicas, type Replicas } from '../support/replicas.js';
import { waitFor } from '../../src/testing/wait.js';

const ADMIN = 'purge-replicas-admin-token-0123456789';

/**
 * A purge through one replica's API, seen by the other: two real `cacheforge start` processes on
 * one S3 bucket, one PostgreSQL database and one Redis. The other replica holds the body in its
 * in-process hot index; the purge reaches it over Redis pub/sub.
 */
describe('scale-out: a purge on one replica reaches the other\'s hot index (S3 + PostgreSQL + Redis)', function () {
  this.timeout(120_000);
  let set: Replicas | undefined;
  let storage: S3Storage;
  let upstream: FakeUpstream;
  let replicas: CliProcess[] = [];
  const oldBody = Buffer.from('version 1 of the document\n');
  const newBody = Buffer.from('version 2, after the purge\n');

  before(async function () {
    upstream = await new FakeUpstream().start();
    upstream.set('/doc.json', { body: oldBody });
    process.env.CF_PURGE_TEST_ADMIN = ADMIN;
    set = await startReplicas(this, {
      name: 'purge',
      config: {
        auth: { adminTokens: ['${CF_PURGE_TEST_ADMIN}'] },
        // Mutable for an hour: without the purge, both replicas would serve version 1 from memory all that time.
        remotes: { files: { type: 'generic', upstream: upstream.url, mutable: ['\\.json$'], ttl: { mutable: '1h' } } },
      },
    });
    ({ replicas, storage } = set);
  });
  after(async function () {
    this.timeout(60_000);
    await set?.stop();
    await upstream?.stop();
  });

  it('after a purge through replica A, replica B no longer serves the old bytes, and the S3 object is gone', async () => {
    const [a, b] = replicas as [CliProcess, CliProcess];
    // Both replicas hold version 1 in their hot index (the second read on each is a memory hit).
    for (const r of [a, b, a, b]) {
      const res = await request(`${r.url}/files/doc.json`);
      expect(res.body.toString()).to.equal(oldBody.toString());
    }
    expect((await request(`${b.url}/files/doc.json`)).headers['x-cache-status']).to.equal('HIT');
    const oldSha = createHash('sha256').update(oldBody).digest('hex');
    expect(await storage.stat(oldSha)).to.not.equal(undefined);

    upstream.set('/doc.json', { body: newBody });
    const purge = await fetch(`${a.url}/-/api/v1/remotes/files/artifacts/doc.json`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(purge.status).to.equal(200);
    expect(await purge.json()).to.deep.equal({ artifacts: 1, blobs: 1, bytesFreed: oldBody.length });
    expect(await storage.stat(oldSha), 'the blob is deleted from S3 before the purge answers').to.equal(undefined);

    // Pub/sub delivery is asynchronous: B must drop the key within a second.
    const started = Date.now();
    await waitFor('replica B to serve the new bytes', async () => (await request(`${b.url}/files/doc.json`)).body.equals(newBody), 1000);
    const tookMs = Date.now() - started;
    expect((await request(`${a.url}/files/doc.json`)).body.toString()).to.equal(newBody.toString());
    expect(tookMs).to.be.below(1000);
  });
});
