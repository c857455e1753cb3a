import { expect } from 'chai';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { CORE_VERSION } from '../../src/version.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'system-test-admin-token-0123456789abc';
const UPSTREAM_SECRET = 'upstream-secret-value-42';
const V1 = '/-/api/v1';

describe('api: system and remotes', function () {
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/ok.txt', { body: Buffer.from('fine\n') });
    upstream.set('/broken.txt', { status: 500, body: Buffer.from('no') });
    const withUser = new URL(upstream.url);
    withUser.username = 'mirror';
    withUser.password = UPSTREAM_SECRET;
    cf = await startCacheForge({
      auth: { adminTokens: [ADMIN] },
      remotes: {
        files: { type: 'generic', upstream: upstream.url, headers: { authorization: `Bearer ${UPSTREAM_SECRET}` }, client: { retries: 0 } },
        private: { type: 'generic', upstream: withUser.href },
      },
    });
    api = await CheckedApi.open(cf.url);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('GET /system: version, uptime, backends and their health, plugins', async () => {
    const res = await api.call('GET', `${V1}/system`, { token: ADMIN });
    expect(res.status).to.equal(200);
    const body = res.body as Record<string, any>;
    expect(body.version).to.equal(CORE_VERSION);
    expect(body.storage).to.deep.equal({ kind: 'filesystem', status: 'ok' });
    expect(body.metadata).to.deep.equal({ kind: 'sqlite', status: 'ok' });
    expect(body.cache).to.deep.equal({ kind: 'memory', status: 'ok' });
    expect(body.plugins).to.deep.equal([{ format: 'generic', package: '@cacheforge/plugin-generic' }]);
    expect(body.auth).to.deep.equal({ anonymousRead: true, adminTokensConfigured: 1, metricsTokenConfigured: false });
    expect(body.remotes).to.equal(2);
  });

  it('GET /remotes lists them; GET /remotes/{name} masks every secret of the config', async () => {
    const list = await api.call('GET', `${V1}/remotes`, { token: ADMIN });
    expect((list.body as { remotes: { name: string }[] }).remotes.map((r) => r.name)).to.deep.equal(['files', 'private']);
    expect(list.text).to.not.contain(UPSTREAM_SECRET);
    for (const name of ['files', 'private']) {
      const one = await api.call('GET', `${V1}/remotes/${name}`, { token: ADMIN });
      expect(one.status).to.equal(200);
      expect(one.text, name).to.not.contain(UPSTREAM_SECRET);
    }
    const files = (await api.call('GET', `${V1}/remotes/files`, { token: ADMIN })).body as Record<string, any>;
    expect(files.config.headers).to.deep.equal({ authorization: '***' });
    expect(files.type).to.equal('generic');
    const priv = (await api.call('GET', `${V1}/remotes/private`, { token: ADMIN })).body as Record<string, any>;
    expect(priv.config.upstream).to.contain('***:***@');
    const missing = await api.call('GET', `${V1}/remotes/nope`, { token: ADMIN });
    expect(missing.status).to.equal(404);
    expect((missing.body as { errors: { code: string }[] }).errors[0]!.code).to.equal('CF_ERR_REMOTE_UNKNOWN');
  });

  it('shows the upstream\'s last success, last failure and why, its error rate, and the counters', async () => {
    expect((await fetch(`${cf.url}/files/ok.txt`)).status).to.equal(200);
    await cf.fillsSettled();
    expect((await fetch(`${cf.url}/files/ok.txt`)).status).to.equal(200);
    expect((await fetch(`${cf.url}/files/broken.txt`)).status).to.equal(502);
    const body = (await api.call('GET', `${V1}/remotes/files`, { token: ADMIN })).body as Record<string, any>;
    const status = body.upstreamStatus;
    expect(status.lastSuccess).to.be.a('string');
    expect(status.lastFailure).to.be.a('string');
    expect(status.lastFailureReason).to.equal('HTTP 500');
    expect(status.requests).to.equal(2);
    expect(status.errorRate).to.equal(0.5);
    expect(status.hosts).to.have.length(1);
    expect(status.hosts[0].up).to.equal(true);
    // The failed fetch is a MISS too (answered 502).
    expect(body.counters.sinceStart.requests).to.include({ MISS: 2, HIT: 1 });
    expect(body.counters.sinceStart.bytesServed).to.be.at.least(10);
  });
});
