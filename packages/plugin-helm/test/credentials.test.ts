import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { FakeUpstream, LogCapture, request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { ChartRepo, REPO_PATH } from './support/chart-repo.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PASSWORD = 'pa55-w0rd-never-shown';
const TOKEN = 'tok-3n-never-shown';

type Index = { entries: Record<string, Array<{ urls: string[] }>> };

/** A private repository: every credential kind a remote can hold, and where each may go. */
describe('helm: credentials reach the upstream origin only, and never a log or an error', function () {
  this.timeout(60_000);
  let fixture: ChartRepo;
  let refusing: FakeUpstream;
  let cf: RunningCacheForge;
  const logs = new LogCapture();

  before(async () => {
    fixture = await new ChartRepo().start();
    refusing = await new FakeUpstream().start();
    refusing.set('/index.yaml', { status: 401, headers: { 'www-authenticate': 'Basic realm="charts"' } });
    cf = await startCacheForge({
      plugins: [PLUGIN],
      log: { level: 'debug' },
      remotes: {
        basic: { type: 'helm', upstream: fixture.upstream, allowedHosts: fixture.allowedHosts, username: 'ci', password: PASSWORD },
        bearer: { type: 'helm', upstream: fixture.upstream, allowedHosts: fixture.allowedHosts, token: TOKEN },
        wrong: { type: 'helm', upstream: refusing.url, token: TOKEN },
      },
    }, { logTo: logs });
  });

  after(async () => {
    await cf?.cleanup();
    await fixture?.stop();
    await refusing?.stop();
  });

  for (const [remote, expected] of [['basic', `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}`], ['bearer', `Bearer ${TOKEN}`]] as const) {
    it(`${remote}: the index and a chart beside it are asked with the credentials; a chart on GitHub and its CDN without`, async () => {
      const before = [fixture.repo, fixture.github, fixture.cdn].map((host) => host.requests.length);
      const index = parse((await request(`${cf.url}/${remote}/index.yaml`)).body.toString()) as Index;
      for (const url of index.entries.hello!.map((e) => e.urls[0]!)) {
        expect((await request(new URL(url, `${cf.url}/${remote}/`).href)).status).to.equal(200);
      }
      const [onRepo, ...others] = [fixture.repo, fixture.github, fixture.cdn].map((host, i) => host.requests.slice(before[i]));
      expect(onRepo!.map((r) => r.path)).to.include.members([`${REPO_PATH}index.yaml`, `${REPO_PATH}charts/hello-0.1.0.tgz`]);
      for (const r of onRepo!) expect(r.headers.authorization, r.path).to.equal(expected);
      const elsewhere = others.flat();
      expect(elsewhere.length).to.equal(2);
      for (const r of elsewhere) expect(r.headers.authorization, r.path).to.equal(undefined);
    });
  }

  it('an upstream refusing the credentials: an error that names no secret', async () => {
    const r = await request(`${cf.url}/wrong/index.yaml`);
    expect(r.status).to.be.greaterThanOrEqual(400);
    expect(r.body.toString()).to.not.contain(TOKEN);
  });

  it('no log line holds a password or a token', async () => {
    await cf.fillsSettled();
    const text = JSON.stringify(logs.lines);
    expect(logs.lines.length).to.be.greaterThan(0);
    expect(text).to.not.contain(PASSWORD);
    expect(text).to.not.contain(TOKEN);
    expect(text).to.not.contain(Buffer.from(`ci:${PASSWORD}`).toString('base64'));
  });
});
