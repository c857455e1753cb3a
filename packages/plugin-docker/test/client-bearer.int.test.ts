import { expect } from 'chai';
import { GrantSigner } from '@cacheforge/core';
import { startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { requireTools, startUpstreamFixture, tempDir, type UpstreamFixture } from './support/fixture.js';

const ADMIN = 'docker-bearer-test-admin-token-0123456789';
const SECRET = 'docker-bearer-test-cluster-secret';

/** The token endpoint and the bearer check at the HTTP level (anonymousRead false). */
describe('docker: the Bearer token flow towards clients (HTTP)', function () {
  this.timeout(120_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: UpstreamFixture;
  let cf: RunningCacheForge;
  let token: string;
  let limited: string;

  const basic = (t: string) => `Basic ${Buffer.from(`any:${t}`).toString('base64')}`;
  const bearerFor = async (auth: string, scope: string, service = 'hub') => {
    const res = await fetch(`${cf.url}/-/docker/token?service=${service}&scope=${encodeURIComponent(scope)}`, { headers: { authorization: auth } });
    return { res, body: res.status === 200 ? await res.json() as { token: string; access_token: string; expires_in: number; issued_at: string } : undefined };
  };

  before(async function () {
    await requireTools(this, ['docker-registry', 'tar']);
    temp = await tempDir('cf-docker-bearer-');
    upstream = await startUpstreamFixture(temp.dir);
    cf = await startCacheForge({
      auth: { anonymousRead: false, adminTokens: [ADMIN] }, cluster: { secret: SECRET }, plugins: ['@cacheforge/plugin-docker'],
      remotes: { hub: { type: 'docker', upstream: `${upstream.front.url}/` }, other: { type: 'docker', upstream: `${upstream.front.url}/` } },
    });
    const make = async (body: object) => {
      const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).to.equal(201);
      return (await res.json() as { token: string }).token;
    };
    token = await make({ name: 'pull', scopes: ['read'] });
    limited = await make({ name: 'other-only', scopes: ['read'], remotes: ['other'] });
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); await temp?.cleanup(); });

  it('challenges a manifest read with a Bearer naming the token endpoint, the remote and the repository, in the OCI error shape', async () => {
    const res = await fetch(`${cf.url}/v2/hub/fix/app/manifests/1`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal(`Bearer realm="${cf.url}/-/docker/token",service="hub",scope="repository:hub/fix/app:pull"`);
    expect(res.headers.get('docker-distribution-api-version')).to.equal('registry/2.0');
    const body = await res.json() as { errors: { code: string }[] };
    expect(body.errors[0]!.code).to.equal('UNAUTHORIZED');
  });

  it('challenges the /v2/ ping too', async () => {
    const res = await fetch(`${cf.url}/v2/`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm=".*\/-\/docker\/token",service=/);
  });

  it('issues a bearer for a Basic token, accepted for that repository only', async () => {
    const { res, body } = await bearerFor(basic(token), 'repository:hub/fix/app:pull');
    expect(res.status).to.equal(200);
    expect(body!.token).to.equal(body!.access_token);
    expect(body!.expires_in).to.equal(300);
    expect(Date.parse(body!.issued_at)).to.be.closeTo(Date.now(), 60_000);
    const ok = await fetch(`${cf.url}/v2/hub/fix/app/manifests/1`, { method: 'HEAD', headers: { authorization: `Bearer ${body!.token}`, accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    expect(ok.status).to.equal(200);
    const elsewhere = await fetch(`${cf.url}/v2/hub/fix/other/manifests/1`, { headers: { authorization: `Bearer ${body!.token}` } });
    expect(elsewhere.status).to.equal(401);
    expect(elsewhere.headers.get('www-authenticate')).to.contain('scope="repository:hub/fix/other:pull"');
  });

  it('refuses the endpoint without credentials and with a wrong token (401)', async () => {
    expect((await fetch(`${cf.url}/-/docker/token?service=hub&scope=repository:hub/fix/app:pull`)).status).to.equal(401);
    expect((await bearerFor(basic('cf_not-a-real-token'), 'repository:hub/fix/app:pull')).res.status).to.equal(401);
  });

  it('issues no access for a remote the token may not read; the request is then 403 DENIED', async () => {
    const { res, body } = await bearerFor(basic(limited), 'repository:hub/fix/app:pull');
    expect(res.status).to.equal(200);
    const denied = await fetch(`${cf.url}/v2/hub/fix/app/manifests/1`, { headers: { authorization: `Bearer ${body!.token}` } });
    expect(denied.status).to.equal(403);
    expect((await denied.json() as { errors: { code: string }[] }).errors[0]!.code).to.equal('DENIED');
  });

  it('refuses an expired bearer and a tampered one (401)', async () => {
    const signer = new GrantSigner(SECRET);
    const old = signer.issue(['hub repository:hub/fix/app:pull'], ['hub repository:hub/fix/app:pull'], Date.now() - 3600_000).token;
    const expired = await fetch(`${cf.url}/v2/hub/fix/app/manifests/1`, { headers: { authorization: `Bearer ${old}` } });
    expect(expired.status).to.equal(401);
    expect((await expired.json() as { errors: { message: string }[] }).errors[0]!.message).to.match(/expired/);
    const { body } = await bearerFor(basic(token), 'repository:hub/fix/app:pull');
    const [payload, mac] = body!.token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!.slice(4), 'base64url').toString()), allowed: ['hub repository:hub/fix/other:pull'], asked: ['hub repository:hub/fix/other:pull'] })).toString('base64url');
    const tampered = await fetch(`${cf.url}/v2/hub/fix/other/manifests/1`, { headers: { authorization: `Bearer cfg_${widened}.${mac}` } });
    expect(tampered.status).to.equal(401);
    expect((await tampered.json() as { errors: { message: string }[] }).errors[0]!.message).to.match(/signature/);
  });

  it('still accepts Basic with a Cache Forge token directly', async () => {
    const res = await fetch(`${cf.url}/v2/hub/fix/app/tags/list`, { headers: { authorization: basic(token) } });
    expect(res.status).to.equal(200);
  });
});
