import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogCapture, skipMissing, startCacheForge, type ClientRun, type RunningCacheForge } from '@cacheforge/core/testing';
import { ChartRepo } from './support/chart-repo.js';
import { extractHelm, helmRunner, HELMS } from './support/helm.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN = 'helm-setup-test-admin-token-0123456789';

for (const spec of HELMS) {
  describe(`plugin-helm: ${spec.label} configured from the served setup snippet (anonymousRead false)`, function () {
    this.timeout(300_000);
    let work: string;
    let fixture: ChartRepo;
    let cf: RunningCacheForge;
    let binary: string;
    let read: string;
    let otherOnly: string;
    let snippet: string;
    const logs = new LogCapture();
    let n = 0;
    const helm = (args: string[]): Promise<ClientRun> => helmRunner(binary, path.join(work, `home-${n}`), work)(args);

    async function token(name: string, remotes: string[]): Promise<string> {
      const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: ['read'], remotes }) });
      expect(res.status).to.equal(201);
      return (await res.json() as { token: string }).token;
    }

    /** Runs each line of the snippet (a fresh helm home), the placeholder replaced by `secret`. */
    async function runSnippet(secret: string | undefined): Promise<ClientRun[]> {
      n += 1;
      const lines = snippet.trim().split('\n').map((l) => (secret ? l.replaceAll('<TOKEN>', secret) : l.replace(' --username any --password <TOKEN>', '')));
      const out: ClientRun[] = [];
      for (const line of lines) out.push(await helm(line.split(' ').slice(1)));
      return out;
    }

    before(async function () {
      work = await mkdtemp(path.join(tmpdir(), 'cf-helm-setup-'));
      const found = await extractHelm(spec.layer, path.join(work, 'bin'));
      if (!found) skipMissing(this, spec.label, `devDependency @aws-cdk/${spec.layer} is not installed; run pnpm install`);
      binary = found!;
      fixture = await new ChartRepo().start();
      cf = await startCacheForge({
        log: { requests: true }, auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: [PLUGIN],
        remotes: {
          charts: { type: 'helm', upstream: fixture.upstream, allowedHosts: fixture.allowedHosts },
          other: { type: 'helm', upstream: fixture.upstream, allowedHosts: fixture.allowedHosts },
        },
      }, { logTo: logs, logLevel: 'trace' });
      read = await token('helm-ci', ['charts']);
      otherOnly = await token('helm-other', ['other']);
      const res = await fetch(`${cf.url}/-/api/v1/remotes/charts/setup`, { headers: { authorization: `Bearer ${read}` } });
      expect(res.status).to.equal(200);
      snippet = (await res.json() as { snippets: { text: string }[] }).snippets[0]!.text;
    });
    after(async () => {
      await cf?.cleanup();
      await fixture?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('the snippet is helm repo add with the placeholder as password', () => {
      expect(snippet).to.equal(`helm repo add charts ${cf.url}/charts --username any --password <TOKEN>\nhelm repo update charts\n`);
    });

    it('with the read token put in: repo add, repo update, and pull of a chart (its URL on the remote, credentials sent)', async () => {
      for (const r of await runSnippet(read)) expect(r.code, r.output).to.equal(0);
      await mkdir(path.join(work, 'pulled'), { recursive: true });
      const pull = await helm(['pull', 'charts/hello', '--version', '0.2.0', '-d', path.join(work, 'pulled')]);
      expect(pull.code, pull.output).to.equal(0);
      expect(await readdir(path.join(work, 'pulled'))).to.deep.equal(['hello-0.2.0.tgz']);
    });

    it('without the token repo add fails on the 401; with a token for another remote only, on the 403', async () => {
      const [anonymous] = await runSnippet(undefined);
      expect(anonymous!.code).to.not.equal(0);
      expect(anonymous!.output).to.match(/401/);
      const [other] = await runSnippet(otherOnly);
      expect(other!.code).to.not.equal(0);
      expect(other!.output).to.match(/403/);
    });

    it('no token appears in Cache Forge\'s log', () => {
      expect(logs.requests.length).to.be.greaterThan(0);
      const all = JSON.stringify(logs.lines);
      for (const secret of [read, otherOnly, ADMIN]) expect(all).to.not.contain(secret);
    });
  });
}
