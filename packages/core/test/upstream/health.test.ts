import { expect } from 'chai';
import { FIRST_BACKOFF_MS, MAX_BACKOFF_MS, UpstreamHealth } from '../../src/upstream/health.js';
import { FaultUpstream } from '../../src/testing/fault-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';

const codeOf = (body: Buffer) => (JSON.parse(body.toString()) as { errors: Array<{ code: string; message: string }> }).errors[0]!;

describe('upstream health: a host that keeps failing is marked down', () => {
  describe('UpstreamHealth', () => {
    let now = 0;
    const changes: boolean[] = [];
    const health = () => new UpstreamHealth('npm', 'registry.example', 3, (up) => changes.push(up), () => now);
    beforeEach(() => { now = 1_000_000; changes.length = 0; });

    it('is down after 3 failures in a row, refuses requests at once, and lets one probe through after the pause', () => {
      const h = health();
      for (let i = 0; i < 2; i++) h.failed(h.admit());
      expect(h.up).to.equal(true);
      h.failed(h.admit());
      expect(h.up).to.equal(false);
      expect(changes).to.deep.equal([false]);
      expect(() => h.admit()).to.throw(/registry\.example of remote npm is down \(3 failed requests in a row/);
      now += FIRST_BACKOFF_MS;
      const probe = h.admit();
      expect(probe.probe).to.equal(true);
      expect(() => h.admit(), 'a second request while the probe is out').to.throw(/a probe is under way/);
      h.succeeded(probe);
      expect(h.up).to.equal(true);
      expect(changes).to.deep.equal([false, true]);
      expect(h.admit().probe).to.equal(false);
    });

    it('doubles the pause with each failed probe, up to the maximum', () => {
      const h = health();
      for (let i = 0; i < 3; i++) h.failed(h.admit());
      const pauses: number[] = [];
      for (let i = 0; i < 8; i++) {
        pauses.push(h.state().nextProbeInMs!);
        now += h.state().nextProbeInMs!;
        h.failed(h.admit());
      }
      expect(pauses).to.deep.equal([1000, 2000, 4000, 8000, 16000, 32000, MAX_BACKOFF_MS, MAX_BACKOFF_MS]);
      expect(changes).to.deep.equal([false]);
    });

    it('an HTTP answer resets the count, and a request the client gave up on frees the probe', () => {
      const h = health();
      h.failed(h.admit()); h.failed(h.admit());
      h.succeeded(h.admit());
      h.failed(h.admit()); h.failed(h.admit());
      expect(h.up).to.equal(true);
      h.failed(h.admit());
      now += FIRST_BACKOFF_MS;
      h.released(h.admit());
      expect(h.admit().probe).to.equal(true);
    });

    it('with downAfter 0, is never marked down', () => {
      const h = new UpstreamHealth('npm', 'registry.example', 0, (up) => changes.push(up), () => now);
      for (let i = 0; i < 20; i++) h.failed(h.admit());
      expect(h.up).to.equal(true);
    });
  });

  describe('through the server', function () {
    this.timeout(30_000);
    let upstream: FaultUpstream;
    let cf: RunningCacheForge;

    before(async () => {
      upstream = await new FaultUpstream().start();
      upstream.set('/SHA256SUMS', { body: Buffer.from('abc  release.tar.gz\n'), headers: { etag: '"v1"' } });
      upstream.set('/release.tar.gz', { body: Buffer.from('the release') });
      cf = await startCacheForge({
        remotes: { files: { type: 'generic', upstream: upstream.url, ttl: { mutable: 0 }, client: { retries: 2 } } },
      });
    });
    after(async () => { await cf.cleanup(); await upstream.stop(); });

    it('while down, stale copies are served at once and misses fail at once with a 502 naming the outage; /-/ready stays 200', async () => {
      expect((await request(`${cf.url}/files/SHA256SUMS`)).status).to.equal(200);
      // Once revalidated (304), the first download is recorded: no request below joins it.
      await waitFor('a revalidation', async () => (await request(`${cf.url}/files/SHA256SUMS`)).headers['x-cache-status'] === 'REVALIDATED');
      upstream.refuseConnections = true;
      upstream.dropConnections();
      const before = upstream.connections;
      // Three requests pay for the outage (each with its retries) and mark the host down...
      for (let i = 0; i < 3; i++) expect((await request(`${cf.url}/files/SHA256SUMS`)).headers['x-cache-status']).to.equal('STALE');
      const tried = upstream.connections;
      expect(tried - before).to.equal(3 * 3);
      // ...after which nothing goes upstream until the pause is over.
      for (let i = 0; i < 20; i++) {
        const stale = await request(`${cf.url}/files/SHA256SUMS`);
        expect(stale.status).to.equal(200);
        expect(stale.headers['x-cache-status']).to.equal('STALE');
        expect(stale.body.toString()).to.equal('abc  release.tar.gz\n');
      }
      const miss = await request(`${cf.url}/files/release.tar.gz`);
      expect(miss.status).to.equal(502);
      expect(codeOf(miss.body).code).to.equal('CF_ERR_UPSTREAM_DOWN');
      expect(codeOf(miss.body).message).to.match(new RegExp(`upstream 127\\.0\\.0\\.1:${upstream.port} of remote files is down`));
      expect(miss.headers['retry-after']).to.match(/^\d+$/);
      expect(upstream.connections, 'requests while down went upstream').to.be.at.most(tried + 3);
      const metrics = (await request(`${cf.url}/-/metrics`)).body.toString();
      expect(metrics).to.contain(`cacheforge_upstream_up{remote="files",host="127.0.0.1:${upstream.port}"} 0`);
      const ready = await request(`${cf.url}/-/ready`);
      expect(ready.status).to.equal(200);
      expect(JSON.parse(ready.body.toString()).upstreamsDown).to.deep.equal([`files (127.0.0.1:${upstream.port})`]);
    });

    it('once the host answers again, a probe marks it up and misses are fetched', async () => {
      upstream.refuseConnections = false;
      await waitFor('a probe to find the upstream back', async () => (await request(`${cf.url}/files/release.tar.gz`)).status === 200, 10_000);
      const ready = JSON.parse((await request(`${cf.url}/-/ready`)).body.toString()) as { upstreamsDown: string[] };
      expect(ready.upstreamsDown).to.deep.equal([]);
      const metrics = (await request(`${cf.url}/-/metrics`)).body.toString();
      expect(metrics).to.contain(`cacheforge_upstream_up{remote="files",host="127.0.0.1:${upstream.port}"} 1`);
      expect((await request(`${cf.url}/files/SHA256SUMS`)).headers['x-cache-status']).to.equal('REVALIDATED');
    });
  });
});

describe('offline: serve only what is stored', function () {
  this.timeout(30_000);
  let upstream: FaultUpstream;
  let cf: RunningCacheForge | undefined;

  before(async () => {
    upstream = await new FaultUpstream().start();
    upstream.set('/SHA256SUMS', { body: Buffer.from('sums') });
    upstream.set('/release.tar.gz', { body: Buffer.from('release') });
  });
  afterEach(async () => { await cf?.cleanup(); cf = undefined; });
  after(async () => { await upstream.stop(); });

  async function storeThenGoOffline(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<RunningCacheForge> {
    const online = await startCacheForge({ remotes: { files: { type: 'generic', upstream: upstream.url, ttl: { mutable: 0 } } } });
    expect((await request(`${online.url}/files/SHA256SUMS`)).status).to.equal(200);
    await online.stop();
    Object.assign(process.env, env);
    try {
      return await startCacheForge(config, { dataDir: online.dataDir });
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
    }
  }

  for (const [how, config, env] of [
    ['offline: true on the remote', { remotes: { files: { type: 'generic', upstream: 'UP', ttl: { mutable: 0 }, offline: true } } }, {}],
    ['server.offline', { server: { host: '127.0.0.1', port: 0, offline: true }, remotes: { files: { type: 'generic', upstream: 'UP', ttl: { mutable: 0 } } } }, {}],
    ['CACHEFORGE_SERVER_OFFLINE=true', { remotes: { files: { type: 'generic', upstream: 'UP', ttl: { mutable: 0 } } } }, { CACHEFORGE_SERVER_OFFLINE: 'true' }],
  ] as const) {
    it(`with ${how}, a stored document is served STALE and a miss is a 504, without asking the upstream`, async () => {
      const withUpstream = JSON.parse(JSON.stringify(config).replace('"UP"', JSON.stringify(upstream.url))) as Record<string, unknown>;
      cf = await storeThenGoOffline(withUpstream, env);
      const asked = upstream.connections;
      const stale = await request(`${cf.url}/files/SHA256SUMS`);
      expect(stale.status).to.equal(200);
      expect(stale.headers['x-cache-status']).to.equal('STALE');
      expect(stale.body.toString()).to.equal('sums');
      const miss = await request(`${cf.url}/files/release.tar.gz`);
      expect(miss.status).to.equal(504);
      expect(codeOf(miss.body).code).to.equal('CF_ERR_UPSTREAM_OFFLINE');
      expect(codeOf(miss.body).message).to.contain('remote files is offline: only stored artifacts are served');
      expect(upstream.connections).to.equal(asked);
    });
  }
});
