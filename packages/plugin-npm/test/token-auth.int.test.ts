import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientVersion, runClient, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { cleanClientEnv } from './support/clients.js';
import { FakeRegistry, packTarball } from './support/fake-registry.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN = 'npm-auth-test-admin-token-0123456789';

/**
 * Real npm against a Cache Forge whose reads need a token (`auth.anonymousRead: false`): with the
 * token as `_authToken` for the proxy's URL in .npmrc it installs, without it npm fails on the 401.
 */
describe('plugin-npm: real npm with a read token (anonymousRead false)', function () {
  this.timeout(120_000);
  let dir: string;
  let registry: FakeRegistry;
  let cf: RunningCacheForge;
  let token: string;

  before(async function () {
    if (!clientVersion('npm')) skipMissing(this, 'npm', 'not on PATH');
    dir = await mkdtemp(path.join(tmpdir(), 'cf-npm-auth-'));
    registry = await new FakeRegistry().start();
    registry.publish('@corp/lib', { version: '1.0.0', tarball: packTarball('@corp/lib', '1.0.0') });
    cf = await startCacheForge({ auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: [PLUGIN], remotes: { npm: { type: 'npm', upstream: registry.url } } });
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'npm-ci', scopes: ['read'], remotes: ['npm'] }) });
    expect(res.status).to.equal(201);
    token = (await res.json() as { token: string }).token;
  });
  after(async () => { await cf?.cleanup(); await registry?.stop(); if (dir) await rm(dir, { recursive: true, force: true }); });

  async function install(name: string, npmrc: string) {
    const project = path.join(dir, name);
    await mkdir(project, { recursive: true });
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies: { '@corp/lib': '1.0.0' } }));
    const env = cleanClientEnv(path.join(dir, `${name}-home`));
    await writeFile(env.npm_config_userconfig!, npmrc);
    return runClient('npm', ['install', '--no-audit', '--no-fund', '--cache', path.join(project, '.cache')], { cwd: project, env });
  }

  it('installs with the token as _authToken for the proxy URL', async () => {
    const url = `${cf.url}/npm/`;
    const run = await install('with-token', `registry=${url}\n//${new URL(url).host}/npm/:_authToken=${token}\n`);
    expect(run.code, run.output).to.equal(0);
    const installed = JSON.parse(await readFile(path.join(dir, 'with-token', 'node_modules', '@corp', 'lib', 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).to.equal('1.0.0');
  });

  it('installs with the .npmrc that /-/api/v1/remotes/npm/setup gives, the token put in for its placeholder', async () => {
    const res = await fetch(`${cf.url}/-/api/v1/remotes/npm/setup`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    const setup = await res.json() as { tokenRequired: boolean; snippets: { file?: string; text: string }[] };
    expect(setup.tokenRequired).to.equal(true);
    const npmrc = setup.snippets.find((x) => x.file === '.npmrc')!.text;
    expect(npmrc).to.contain('<TOKEN>');
    expect(npmrc).to.not.contain(token);
    const run = await install('from-setup', npmrc.replace('<TOKEN>', token));
    expect(run.code, run.output).to.equal(0);
  });

  it('fails with E401 without it', async () => {
    const run = await install('without-token', `registry=${cf.url}/npm/\n`);
    expect(run.code).to.not.equal(0);
    expect(run.output).to.match(/E401|401/);
  });
});
