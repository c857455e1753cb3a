import { expect } from 'chai';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { Skopeo } from './support/skopeo.js';
import { requireTools, startUpstreamFixture, tempDir, type FixtureImages, type UpstreamFixture } from './support/fixture.js';
import { layoutDigest } from './support/image.js';

const ADMIN = 'docker-auth-test-admin-token-0123456789';

/**
 * skopeo against a Cache Forge whose reads need a token (`auth.anonymousRead: false`): `skopeo
 * login` with the token as password is accepted, and a pull with the saved credentials works; a
 * pull without them is refused.
 */
describe('docker: skopeo login with a read token (anonymousRead false)', function () {
  this.timeout(180_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: UpstreamFixture;
  let cf: RunningCacheForge;
  let images: FixtureImages;
  let skopeo: Skopeo;
  let token: string;

  before(async function () {
    await requireTools(this, ['skopeo', 'docker-registry', 'tar']);
    temp = await tempDir('cf-docker-token-');
    upstream = await startUpstreamFixture(temp.dir);
    images = upstream.images;
    cf = await startCacheForge({
      auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-docker'],
      remotes: { hub: { type: 'docker', upstream: `${upstream.front.url}/`, ttl: { mutable: 0 } } },
    });
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci-pull', scopes: ['read'] }) });
    expect(res.status).to.equal(201);
    token = (await res.json() as { token: string }).token;
    skopeo = await Skopeo.create(path.join(temp.dir, 'client'));
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); await temp?.cleanup(); });

  const host = () => new URL(cf.url).host;

  it('is refused a pull without credentials', async () => {
    const failed = await skopeo.pull(`docker://${host()}/hub/fix/app:1`, path.join(temp.dir, 'anon')).then(() => undefined, (e: Error) => e.message);
    // The anonymous client follows the Bearer challenge to the token endpoint, which refuses it.
    expect(failed).to.match(/the token endpoint needs a Cache Forge token/);
  });

  it('logs in with the token as password, then pulls with the saved credentials', async () => {
    const authfile = path.join(temp.dir, 'client', 'auth.json');
    await skopeo.run(['login', '--tls-verify=false', '--authfile', authfile, '--username', 'ci', '--password', token, host()]);
    const dest = path.join(temp.dir, 'pulled');
    await skopeo.pull(`docker://${host()}/hub/fix/app:1`, dest);
    expect(await layoutDigest(dest)).to.equal(images.single.digest);
  });

  it('pulls the upstream\'s name through the registries.conf that /-/api/v1/remotes/hub/setup gives, with the login above', async () => {
    const res = await fetch(`${cf.url}/-/api/v1/remotes/hub/setup`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    const { snippets } = await res.json() as { snippets: { file?: string; text: string }[] };
    const conf = snippets.find((x) => x.file?.startsWith('/etc/containers/'))!.text;
    expect(conf).to.not.contain(token);
    const dir = path.join(temp.dir, 'client-mirror');
    const mirrored = await Skopeo.create(dir, `unqualified-search-registries = []\nshort-name-mode = "disabled"\n${conf}`);
    await mirrored.run(['login', '--tls-verify=false', '--authfile', path.join(dir, 'auth.json'), '--username', 'ci', '--password', token, host()]);
    const served = async () => {
      const stats = await (await fetch(`${cf.url}/-/api/v1/stats?remote=hub`, { headers: { authorization: `Bearer ${token}` } })).json() as { remotes: { requests: Record<string, number> }[] };
      return Object.values(stats.remotes[0]!.requests).reduce((n, v) => n + v, 0);
    };
    const before = await served();
    const dest = path.join(temp.dir, 'mirrored');
    // The upstream's own name: only the mirror entry sends it through Cache Forge.
    await mirrored.pull(`docker://${new URL(upstream.front.url).host}/fix/app:1`, dest);
    expect(await layoutDigest(dest)).to.equal(images.single.digest);
    expect(await served(), 'the pull went through Cache Forge').to.be.greaterThan(before);
  });
});
