import { expect } from 'chai';
import type { CliProcess } from '../../src/testing/cli-process.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request } from '../../src/testing/http.js';
import { startReplicas, type Replicas } from '../support/replicas.js';
import { waitFor } from '../../src/testing/wait.js';

const ADMIN = 'runtime-replicas-admin-token-0123456789';
/** The bound the docs promise: the poll (REMOTES_POLL_MS); the Redis nudge makes it milliseconds. */
const BOUND_MS = 5_000;

describe('scale-out: a runtime remote added on one replica is served by the other (S3 + PostgreSQL + Redis)', function () {
  this.timeout(120_000);
  let set: Replicas | undefined;
  let upstream: FakeUpstream;
  let replicas: CliProcess[] = [];
  const api = (r: CliProcess, method: string, body?: unknown) => fetch(`${r.url}/-/api/v1/remotes/extra`, {
    method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });

  before(async function () {
    upstream = await new FakeUpstream().start();
    upstream.set('/a.txt', { body: Buffer.from('through a runtime remote\n') });
    process.env.CF_RUNTIME_TEST_ADMIN = ADMIN;
    set = await startReplicas(this, {
      name: 'runtime-remotes',
      config: { auth: { adminTokens: ['${CF_RUNTIME_TEST_ADMIN}'] }, remotes: { files: { type: 'generic', upstream: upstream.url } } },
    });
    ({ replicas } = set);
  });
  after(async function () {
    this.timeout(60_000);
    await set?.stop();
    await upstream?.stop();
  });

  it('PUT on replica A: replica B serves it within the bound; DELETE: both answer 404', async () => {
    const [a, b] = replicas as [CliProcess, CliProcess];
    expect((await request(`${b.url}/extra/a.txt`)).status).to.equal(404);
    expect((await api(a, 'PUT', { type: 'generic', upstream: upstream.url })).status).to.equal(201);
    let started = Date.now();
    await waitFor('replica B to serve the runtime remote', async () => (await request(`${b.url}/extra/a.txt`)).status === 200, BOUND_MS + 1000);
    const addedMs = Date.now() - started;
    expect((await request(`${b.url}/extra/a.txt`)).body.toString()).to.equal('through a runtime remote\n');
    expect((await request(`${a.url}/extra/a.txt`)).status).to.equal(200);

    expect((await api(a, 'DELETE')).status).to.equal(204);
    expect((await request(`${a.url}/extra/a.txt`)).status).to.equal(404);
    started = Date.now();
    await waitFor('replica B to drop the runtime remote', async () => (await request(`${b.url}/extra/a.txt`)).status === 404, BOUND_MS + 1000);
    const removedMs = Date.now() - started;
    expect(addedMs, 'added within the bound').to.be.below(BOUND_MS);
    expect(removedMs, 'removed within the bound').to.be.below(BOUND_MS);
    console.log(`      runtime remote reached replica B in ${addedMs} ms (added), ${removedMs} ms (removed)`);
  });
});
