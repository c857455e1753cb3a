import { expect } from 'chai';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request } from '../../src/testing/http.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'runtime-remotes-admin-token-0123456789';
const V1 = '/-/api/v1';

describe('api: runtime remotes — PUT/DELETE /remotes/{name}', function () {
  this.timeout(60_000);
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;
  let writer: string;
  const errorsOf = (body: unknown) => (body as { errors: { code: string; message: string }[] }).errors[0]!;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/a.txt', { body: Buffer.from('runtime a\n') });
    cf = await startCacheForge({ auth: { adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    api = await CheckedApi.open(cf.url);
    writer = ((await api.call('POST', `${V1}/tokens`, { token: ADMIN, body: { name: 'writer', scopes: ['write'] } })).body as { token: string }).token;
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('adds a remote that is served at once, listed with source api beside the file\'s', async () => {
    const put = await api.call('PUT', `${V1}/remotes/extra`, { token: ADMIN, body: { type: 'generic', upstream: upstream.url } });
    expect(put.status).to.equal(201);
    expect(put.body).to.deep.include({ name: 'extra', type: 'generic', source: 'api' });
    const res = await request(`${cf.url}/extra/a.txt`);
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal('runtime a\n');
    const list = (await api.call('GET', `${V1}/remotes`, { token: ADMIN })).body as { remotes: { name: string; source: string }[] };
    expect(list.remotes.map((r) => [r.name, r.source])).to.deep.include.members([['files', 'file'], ['extra', 'api']]);
  });

  it('replaces it (200), and the new config applies', async () => {
    const put = await api.call('PUT', `${V1}/remotes/extra`, { token: ADMIN, body: { type: 'generic', upstream: upstream.url, offline: true } });
    expect(put.status).to.equal(200);
    expect(put.body).to.deep.include({ offline: true });
  });

  it('answers 400 with the config file\'s key-path messages', async () => {
    const typo = await api.call('PUT', `${V1}/remotes/bad`, { token: ADMIN, body: { type: 'generic', upstream: upstream.url, ttll: { mutable: '1h' } } });
    expect(typo.status).to.equal(400);
    expect(errorsOf(typo.body)).to.deep.include({ code: 'CF_ERR_API_BAD_REQUEST' });
    expect(errorsOf(typo.body).message).to.include('remotes.bad.ttll: unknown key (did you mean `ttl`?)');
    const unknown = await api.call('PUT', `${V1}/remotes/bad`, { token: ADMIN, body: { type: 'nosuchformat', upstream: upstream.url } });
    expect(unknown.status).to.equal(400);
    expect(errorsOf(unknown.body).message).to.include('remotes.bad.type: unknown remote type "nosuchformat"');
    const missing = await api.call('PUT', `${V1}/remotes/bad`, { token: ADMIN, body: { upstream: upstream.url } });
    expect(missing.status).to.equal(400);
    expect(errorsOf(missing.body).message).to.include('remotes.bad.type');
    expect((await request(`${cf.url}/bad/a.txt`)).status).to.equal(404);
  });

  it('refuses to change a remote of the config file (409 saying so)', async () => {
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await api.call(method, `${V1}/remotes/files`, { token: ADMIN, ...(method === 'PUT' ? { body: { type: 'generic', upstream: upstream.url } } : {}) });
      expect(res.status).to.equal(409);
      expect(errorsOf(res.body).message).to.include('comes from the config file');
    }
  });

  it('needs the admin scope', async () => {
    expect((await api.call('PUT', `${V1}/remotes/other`, { body: { type: 'generic', upstream: upstream.url } })).status).to.equal(401);
    expect((await api.call('PUT', `${V1}/remotes/other`, { token: writer, body: { type: 'generic', upstream: upstream.url } })).status).to.equal(403);
    expect((await api.call('DELETE', `${V1}/remotes/extra`, { token: writer })).status).to.equal(403);
  });

  it('removes it: 204, then 404 for its requests and for a second DELETE', async () => {
    expect((await api.call('DELETE', `${V1}/remotes/extra`, { token: ADMIN })).status).to.equal(204);
    expect((await request(`${cf.url}/extra/a.txt`)).status).to.equal(404);
    expect((await api.call('DELETE', `${V1}/remotes/extra`, { token: ADMIN })).status).to.equal(404);
  });

  it('keeps runtime remotes across a restart (they live in the metadata store)', async () => {
    expect((await api.call('PUT', `${V1}/remotes/kept`, { token: ADMIN, body: { type: 'generic', upstream: upstream.url } })).status).to.equal(201);
    await cf.stop();
    cf = await startCacheForge({ auth: { adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } }, { dataDir: cf.dataDir });
    expect((await request(`${cf.url}/kept/a.txt`)).status).to.equal(200);
  });
});
