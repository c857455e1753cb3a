import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { makeTokenCert, startRegistry, startStatic, startTokenServer, type Registry, type TokenServer } from './support/registry.js';
import { Skopeo } from './support/skopeo.js';
import { buildFixtureImages, httpRequest, pushFixtureImages, requireTools, SKOPEO_ACCEPT, tempDir, type FixtureImages } from './support/fixture.js';
import { layoutDigest } from './support/image.js';

const USER = 'puller';
const PASSWORD = 'fixture-s3cret-pw';

/**
 * A Docker-Hub-like upstream: distribution with `auth: token` (a real token service issuing signed
 * JWTs, which requires Basic credentials) and blob reads redirected (307) to a separate "CDN".
 * Cache Forge must run the Bearer flow with the remote's credentials, cache tokens per scope, follow
 * the redirects, and never show the credentials.
 */
describe('docker: token-auth upstream (Bearer flow, credentials, CDN redirects)', function () {
  this.timeout(180_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let tokens: TokenServer;
  let cdn: Awaited<ReturnType<typeof startStatic>>;
  let registry: Registry;
  let cf: RunningCacheForge;
  let images: FixtureImages;
  let skopeo: Skopeo;
  let n = 0;
  const out = () => path.join(temp.dir, `out-${++n}`);
  const proxied = (ref: string) => `docker://${new URL(cf.url).host}/secure/${ref}`;

  before(async function () {
    await requireTools(this, ['skopeo', 'docker-registry', 'tar', 'openssl']);
    temp = await tempDir('cf-docker-token-');
    const { keyFile, certFile } = await makeTokenCert(temp.dir);
    tokens = await startTokenServer({ keyFile, certFile, issuer: 'fixture-issuer', service: 'fixture-registry', user: USER, password: PASSWORD });
    const registryDir = path.join(temp.dir, 'registry');
    await mkdir(path.join(registryDir, 'data'), { recursive: true });
    cdn = await startStatic(path.join(registryDir, 'data'));
    registry = await startRegistry(registryDir, { auth: { realm: tokens.realm, service: 'fixture-registry', issuer: 'fixture-issuer', certFile }, redirectBase: cdn.url });
    images = await buildFixtureImages(temp.dir);
    skopeo = await Skopeo.create(path.join(temp.dir, 'skopeo'));
    await pushFixtureImages(skopeo, images, registry.host, `${USER}:${PASSWORD}`);
    process.env.CF_TEST_REGISTRY_PASSWORD = PASSWORD;
    // The token service and the CDN are other origins (other ports): allowed by name, as Docker Hub's are.
    const allowedHosts = [new URL(tokens.realm).host, new URL(cdn.url).host];
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-docker'],
      remotes: {
        secure: { type: 'docker', upstream: `${registry.url}/`, username: USER, password: '${CF_TEST_REGISTRY_PASSWORD}', ttl: { mutable: 0 }, allowedHosts },
        anonymous: { type: 'docker', upstream: `${registry.url}/`, allowedHosts },
        wrong: { type: 'docker', upstream: `${registry.url}/`, username: USER, password: 'not-the-password', allowedHosts },
      },
    });
  });

  after(async () => {
    delete process.env.CF_TEST_REGISTRY_PASSWORD;
    await cf?.cleanup();
    await registry?.stop();
    await cdn?.close();
    await tokens?.close();
    await temp?.cleanup();
  });

  it('pulls by tag and by digest through the Bearer flow, with the remote\'s credentials and blobs from the CDN', async () => {
    const before = tokens.requests.length;
    const single = out();
    await skopeo.pull(proxied('fix/app:1'), single);
    expect(await layoutDigest(single)).to.equal(images.single.digest);
    const multi = out();
    await skopeo.pull(proxied(`library/multi@${images.multi.digest}`), multi, { all: true });
    expect(await layoutDigest(multi)).to.equal(images.multi.digest);
    const asked = tokens.requests.slice(before);
    expect(asked.length).to.be.greaterThan(0);
    expect(asked.every((r) => r.basic), 'every token request carries the credentials').to.equal(true);
    expect(asked.flatMap((r) => r.scope)).to.include.members(['repository:fix/app:pull', 'repository:library/multi:pull']);
    expect(cdn.gets.some((g) => g.includes('/blobs/sha256/')), 'blob reads followed the redirect to the CDN').to.equal(true);
    expect(cdn.authorized, 'the registry token is not sent to the CDN').to.equal(0);
  });

  it('keeps tokens per scope: pulling again (tags revalidated upstream) asks the token service nothing', async () => {
    const before = tokens.requests.length;
    await skopeo.pull(proxied('fix/app:1'), out());
    await skopeo.pull(proxied('library/multi:latest'), out(), { all: true });
    expect(tokens.requests.slice(before).flatMap((r) => r.scope).filter((s) => s === 'repository:fix/app:pull')).to.deep.equal([]);
  });

  it('answers UNAUTHORIZED in the OCI error format when the token service refuses the credentials, without echoing them', async () => {
    const res = await httpRequest(`${cf.url}/v2/wrong/fix/app/manifests/1`);
    expect(res.status).to.equal(502);
    const body = JSON.parse(res.body.toString()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).to.equal('UNAUTHORIZED');
    expect(res.body.toString()).to.not.include('not-the-password');
    expect(JSON.stringify(res.headers)).to.not.include('not-the-password');
  });

  it('refuses an anonymous remote on a registry that needs credentials with UNAUTHORIZED', async () => {
    const res = await httpRequest(`${cf.url}/v2/anonymous/fix/app/manifests/1`);
    expect(res.status).to.equal(502);
    expect((JSON.parse(res.body.toString()) as { errors: { code: string }[] }).errors[0]!.code).to.equal('UNAUTHORIZED');
  });

  it('with the upstream stopped, pulls by digest from the store and by tag STALE', async () => {
    await registry.stop();
    const dest = out();
    await skopeo.pull(proxied(`fix/app@${images.single.digest}`), dest);
    expect(await layoutDigest(dest)).to.equal(images.single.digest);
    const tagged = out();
    await skopeo.pull(proxied('fix/app:1'), tagged);
    expect(await layoutDigest(tagged)).to.equal(images.single.digest);
    const res = await httpRequest(`${cf.url}/v2/secure/fix/app/manifests/1`, { headers: { accept: SKOPEO_ACCEPT } });
    expect(res.status).to.equal(200);
    expect(res.headers['x-cache-status']).to.equal('STALE');
    expect(res.headers['docker-content-digest']).to.equal(images.single.digest);
  });
});
