import { expect } from 'chai';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'stats-test-admin-token-0123456789abcd';
const V1 = '/-/api/v1';

interface RemoteStats {
  remote: string; requests: Record<string, number>; hitRatio: number | null; bytesServed: number; bytesFetched: number; bytesSaved: number;
  topArtifacts: { name: string; requests: number; bytes: number }[]; clients: { name: string; requests: number }[];
}

describe('api: download statistics', function () {
  this.timeout(60_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let api: CheckedApi;
  const a = Buffer.alloc(1000, 'a');
  const b = Buffer.alloc(300, 'b');
  // Hit counts are batched every 5 s: the statistics must not wait for that.
  const config = () => ({ auth: { adminTokens: [ADMIN] }, metadata: { sqlite: { filename: `${cf?.dataDir ?? ''}/cacheforge.db` }, flushInterval: '5s' }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
  const stats = async (query = '') => {
    const res = await api.call('GET', `${V1}/stats${query}`, { token: ADMIN });
    expect(res.status, res.text).to.equal(200);
    return (res.body as { remotes: RemoteStats[] }).remotes.find((r) => r.remote === 'files')!;
  };

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/a.bin', { body: a });
    upstream.set('/b.bin', { body: b });
    cf = await startCacheForge({ auth: { adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    await cf.stop();
    cf = await startCacheForge(config(), { dataDir: cf.dataDir });
    api = await CheckedApi.open(cf.url);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('counts every cache status, bytes served, fetched and saved, top artifacts and clients, visible at once', async () => {
    for (const p of ['a.bin', 'a.bin', 'a.bin', 'b.bin']) {
      expect((await request(`${cf.url}/files/${p}`)).status).to.equal(200);
      await cf.fillsSettled();
    }
    const s = await stats();
    expect(s.requests).to.deep.equal({ HIT: 2, MISS: 2, REVALIDATED: 0, STALE: 0, BYPASS: 0 });
    expect(s.hitRatio).to.equal(0.5);
    expect(s.bytesServed).to.equal(3 * a.length + b.length);
    expect(s.bytesFetched).to.equal(a.length + b.length);
    expect(s.bytesSaved).to.equal(2 * a.length);
    expect(s.topArtifacts[0]).to.deep.equal({ name: '/files/a.bin', requests: 3, bytes: 3 * a.length });
    expect(s.clients).to.have.length(1);
    expect(s.clients[0]!.name).to.contain('127.0.0.1');
    expect(s.clients[0]!.requests).to.equal(4);
    const past = await stats(`?until=${encodeURIComponent('2020-01-01T00:00:00Z')}`);
    expect(past.requests.HIT).to.equal(0);
  });

  it('keeps them across a restart, and adds another replica\'s after its next flush (every second; bounded at 1.5 s here)', async () => {
    await cf.stop();
    cf = await startCacheForge(config(), { dataDir: cf.dataDir });
    api = await CheckedApi.open(cf.url);
    expect((await stats()).requests).to.deep.include({ HIT: 2, MISS: 2 });
    const other = await startCacheForge(config(), { dataDir: cf.dataDir });
    try {
      expect((await request(`${other.url}/files/b.bin`)).headers['x-cache-status']).to.equal('HIT');
      const served = Date.now();
      await waitFor('the other replica\'s hit in this one\'s statistics', async () => (await stats()).requests.HIT === 3, 1500);
      expect(Date.now() - served).to.be.below(1500);
    } finally { await other.stop(); }
  });

  it('refuses an unknown remote and a bad time', async () => {
    expect((await api.call('GET', `${V1}/stats?remote=nope`, { token: ADMIN })).status).to.equal(404);
    expect((await api.call('GET', `${V1}/stats?since=yesterday`, { token: ADMIN })).status).to.equal(400);
  });
});
