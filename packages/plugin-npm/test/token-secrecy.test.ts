import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, spawnCacheForge, waitFor, type CliProcess } from '@cacheforge/core/testing';
import { FakeRegistry, packTarball } from './support/fake-registry.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('plugin-npm: the upstream token stays secret (real `cacheforge start`)', () => {
  let dir: string;
  let registry: FakeRegistry;
  let cli: CliProcess | undefined;
  const token = 'npm_TokenThatMustNotLeak42';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-npm-token-'));
    registry = await new FakeRegistry().start();
    registry.publish('@corp/lib', { version: '1.0.0', tarball: packTarball('@corp/lib', '1.0.0') });
    registry.requiredAuth = `Bearer ${token}`;
  });
  after(async () => {
    await cli?.stop();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates every upstream request, and no log line or error body shows the token', async () => {
    const file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({
      log: { level: 'trace', requests: true },
      storage: { filesystem: { path: path.join(dir, 'blobs') } }, metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
      plugins: [PLUGIN],
      remotes: {
        npm: { type: 'npm', upstream: registry.url, token: '${CF_TEST_TOKEN}' }, // eslint-disable-line no-template-curly-in-string
        wrong: { type: 'npm', upstream: registry.url, token: `${token}-but-wrong`, client: { retries: 0 } },
      },
    }));
    process.env.CF_TEST_TOKEN = token;
    try {
      cli = await spawnCacheForge(file);
    } finally {
      delete process.env.CF_TEST_TOKEN;
    }
    const ok = await request(`${cli.url}/npm/@corp/lib/-/lib-1.0.0.tgz`);
    expect(ok.status).to.equal(200);
    const refused = await request(`${cli.url}/wrong/@corp%2flib`, { headers: { accept: 'application/json' } });
    expect(refused.status).to.equal(502);
    expect(refused.body.toString()).to.not.include(token);
    expect(registry.seen.filter((r) => r.headers.authorization === `Bearer ${token}`).length).to.equal(2);
    // The token could only be in what was logged about these requests: wait until both are.
    const answered = (remote: string, status: number) => cli!.logLines().some((l) => l.msg === 'request' && l.remote === remote && l.status === status);
    await waitFor('the access log lines of both requests', () => answered('npm', 200) && answered('wrong', 502));
    expect(cli.output()).to.include('cacheforge listening');
    expect(cli.output()).to.not.include(token);
  });
});
