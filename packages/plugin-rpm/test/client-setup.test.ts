import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LogCapture, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { Dnf } from './support/dnf.js';
import { missingTool, RELEASES, RpmFixture } from './support/rpm-fixture.js';

const ADMIN = 'rpm-setup-test-admin-token-0123456789';

/** The `.repo` file `/-/api/v1/remotes/<name>/setup` serves, put in place, drives a real dnf under anonymousRead false. */
describe('plugin-rpm: real dnf configured from the served .repo snippet (anonymousRead false)', function () {
  this.timeout(300_000);
  let fixture: RpmFixture;
  let cf: RunningCacheForge;
  let dnf: Dnf;
  let read: string;
  let otherOnly: string;
  let repo: string;
  const logs = new LogCapture();

  async function token(name: string, remotes: string[]): Promise<string> {
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: ['read'], remotes }) });
    expect(res.status).to.equal(201);
    return (await res.json() as { token: string }).token;
  }

  /** The snippet with its folder filled in, the token (or no credentials), and gpgcheck off: the fixture's packages are unsigned. */
  async function install(root: string, secret: string | undefined) {
    let text = repo.replace('<folder>/', RELEASES.replace('40', '$releasever').replace('x86_64', '$basearch')).replace('gpgcheck=1', 'gpgcheck=0\nmetadata_expire=0');
    text = secret ? text.replace('<TOKEN>', secret) : text.replace(/^(username|password)=.*\n/gm, '');
    await writeFile(path.join(dnf.dir, 'repos.d', 'fedora.repo'), text);
    return dnf.run('fedora', root, ['install', 'hello-fixture-1.0']);
  }

  before(async function () {
    const missing = missingTool();
    if (missing) skipMissing(this, missing, 'apt-get install rpm createrepo-c dnf dnf-plugins-core gnupg');
    fixture = await RpmFixture.build();
    await fixture.start();
    cf = await startCacheForge({
      log: { requests: true }, auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-rpm'],
      remotes: { fedora: { type: 'rpm', upstream: fixture.url, client: { retries: 0 } }, other: { type: 'rpm', upstream: fixture.url } },
    }, { logTo: logs, logLevel: 'trace' });
    read = await token('dnf-ci', ['fedora']);
    otherOnly = await token('dnf-other', ['other']);
    const res = await fetch(`${cf.url}/-/api/v1/remotes/fedora/setup`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).to.equal(200);
    repo = (await res.json() as { snippets: { file?: string; text: string }[] }).snippets.find((s) => s.file === '/etc/yum.repos.d/cacheforge-fedora.repo')!.text;
    dnf = await Dnf.create();
  });
  after(async () => { await cf?.cleanup(); await fixture?.cleanup(); await dnf?.cleanup(); });

  it('the .repo names the remote, keeps gpgcheck on, and carries username/password with the placeholder', () => {
    expect(repo).to.contain(`[fedora]\nname=fedora (Cache Forge fedora)\nbaseurl=${cf.url}/fedora/<folder>/\ngpgcheck=1\n`);
    expect(repo).to.contain('username=any\npassword=<TOKEN>\n');
  });

  it('with the read token put in, dnf installs through it', async () => {
    const r = await install('with-token', read);
    expect(r.code, r.output).to.equal(0);
  });

  it('without credentials dnf fails on the 401; with a token for another remote only, on the 403', async () => {
    const anonymous = await install('anonymous', undefined);
    expect(anonymous.code).to.not.equal(0);
    expect(anonymous.output).to.match(/401/);
    const other = await install('other', otherOnly);
    expect(other.code).to.not.equal(0);
    expect(other.output).to.match(/403/);
  });

  it('no token appears in Cache Forge\'s log', () => {
    expect(logs.requests.length).to.be.greaterThan(0);
    const all = JSON.stringify(logs.lines);
    for (const secret of [read, otherOnly, ADMIN]) expect(all).to.not.contain(secret);
  });
});
