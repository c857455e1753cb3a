import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { bundledWheels, DEBIAN_WHEELS, missingTools, PypiFixture, type ProjectSpec } from './support/pypi-fixture.js';
import { pip, pipVersion, PYTHON } from './support/pip.js';

const ADMIN = 'pip-auth-test-admin-token-0123456789';
const PROJECTS: ProjectSpec[] = [{ name: 'cf-hello', version: '1.0', wheel: true }];

/**
 * Real pip against a Cache Forge whose reads need a token (`auth.anonymousRead: false`): the
 * token in the index URL (`https://user:token@…`) installs, a URL without it is refused.
 */
describe('plugin-pypi: real pip with a read token in the index URL (anonymousRead false)', function () {
  this.timeout(300_000);
  let fixture: PypiFixture;
  let cf: RunningCacheForge;
  let work: string;
  let token: string;

  before(async function () {
    const missing = await missingTools();
    const version = await pipVersion();
    if (missing || !version) skipMissing(this, 'pip', missing ?? 'python3 -m pip not found');
    const bundled = await bundledWheels(PYTHON);
    fixture = await PypiFixture.build(PROJECTS, { wheelDirs: [DEBIAN_WHEELS, ...(bundled ? [bundled] : [])] });
    await fixture.start();
    cf = await startCacheForge({
      auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-pypi'],
      remotes: { pypi: { type: 'pypi', upstream: fixture.indexUrl, files: fixture.filesUrl } },
    });
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pip-ci', scopes: ['read'] }) });
    expect(res.status).to.equal(201);
    token = (await res.json() as { token: string }).token;
    work = await mkdtemp(path.join(tmpdir(), 'cf-pip-auth-'));
  });
  after(async () => { await cf?.cleanup(); await fixture?.cleanup(); if (work) await rm(work, { recursive: true, force: true }); });

  it('installs with the token as the password in the index URL', async () => {
    const url = new URL(`${cf.url}/pypi/simple/`);
    url.username = 'ci';
    url.password = token;
    const target = path.join(work, 'with-token');
    const r = await pip(['install', '--index-url', url.href, '--target', target, 'cf-hello']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await readdir(target)).to.include('cf_hello.py');
  });

  it('installs with the index URL of the pip.conf that /-/api/v1/remotes/pypi/setup gives, the token put in', async () => {
    const res = await fetch(`${cf.url}/-/api/v1/remotes/pypi/setup`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    const setup = await res.json() as { snippets: { file?: string; text: string }[] };
    const conf = setup.snippets.find((x) => x.file === 'pip.conf')!.text;
    expect(conf).to.not.contain(token);
    const indexUrl = /^index-url = (.+)$/m.exec(conf)![1]!.replace('<TOKEN>', encodeURIComponent(token));
    const target = path.join(work, 'from-setup');
    const r = await pip(['install', '--index-url', indexUrl, '--target', target, 'cf-hello']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await readdir(target)).to.include('cf_hello.py');
  });

  it('is refused without it', async () => {
    const r = await pip(['install', '--index-url', `${cf.url}/pypi/simple/`, '--target', path.join(work, 'without'), '--no-input', 'cf-hello']);
    expect(r.code).to.not.equal(0);
    expect(r.stdout + r.stderr).to.match(/401|credentials|No matching distribution/i);
  });
});
