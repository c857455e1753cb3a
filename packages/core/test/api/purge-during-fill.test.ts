import { expect } from 'chai';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'purge-fill-test-admin-token-0123456789';
const V1 = '/-/api/v1';

/** Every blob file name under the store (their names are the digests). */
async function blobNames(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.basename(e.name));
}

describe('api: a purge while the key is being filled', function () {
  this.timeout(60_000);
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;
  const body = randomBytes(768 * 1024);
  const sha = createHash('sha256').update(body).digest('hex');

  before(async () => {
    upstream = await new FakeUpstream().start();
    // About three seconds of body: the purge lands in the middle of it.
    upstream.set('/slow.bin', { body, rate: 256 * 1024 });
    cf = await startCacheForge({ auth: { adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    api = await CheckedApi.open(cf.url);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('the fill finishes for its client with the whole body, and is not recorded: no row, no blob', async () => {
    const received: Buffer[] = [];
    let firstBytes!: () => void;
    const started = new Promise<void>((resolve) => { firstBytes = resolve; });
    const done = new Promise<{ status: number }>((resolve, reject) => {
      http.get(`${cf.url}/files/slow.bin`, (res) => {
        res.on('data', (chunk: Buffer) => { received.push(chunk); firstBytes(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      }).on('error', reject);
    });
    await started;
    const purge = await api.call('DELETE', `${V1}/remotes/files/artifacts/slow.bin`, { token: ADMIN });
    // No row exists yet while the key fills, so the purge may answer 404 ("holds nothing"): it still applies to the running fill.
    expect(purge.status).to.be.oneOf([200, 404]);
    expect(Buffer.concat(received).length, 'the purge came mid-body').to.be.below(body.length);
    const res = await done;
    expect(res.status).to.equal(200);
    expect(createHash('sha256').update(Buffer.concat(received)).digest('hex'), 'the client got the whole body').to.equal(sha);
    await cf.fillsSettled();
    expect((await api.call('HEAD', `${V1}/remotes/files/artifacts/slow.bin`, { token: ADMIN })).status, 'no record').to.equal(404);
    expect(await blobNames(path.join(cf.dataDir, 'blobs')), 'no blob kept').to.not.include(sha);
  });

  it('the next request fetches it again and records it as usual', async () => {
    upstream.set('/slow.bin', { body });
    const again = await fetch(`${cf.url}/files/slow.bin`);
    expect(again.headers.get('x-cache-status')).to.equal('MISS');
    expect(Buffer.from(await again.arrayBuffer()).equals(body)).to.equal(true);
    await cf.fillsSettled();
    expect((await api.call('HEAD', `${V1}/remotes/files/artifacts/slow.bin`, { token: ADMIN })).status).to.equal(200);
  });
});
