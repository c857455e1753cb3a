import { expect } from 'chai';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { API_BASE } from '../../src/api/route.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'openapi-test-admin-token-0123456789';

/** Fills a path template with sample values, so the request reaches the route. */
function sample(template: string): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => (name === 'name' ? 'files' : name === 'path' ? 'a/b.txt' : 'x'));
}

describe('api: the OpenAPI document and the route table agree', function () {
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;

  before(async () => {
    upstream = await new FakeUpstream().start();
    process.env.CF_OPENAPI_TEST_ADMIN = ADMIN;
    cf = await startCacheForge({ auth: { adminTokens: ['${CF_OPENAPI_TEST_ADMIN}'] }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    api = await CheckedApi.open(cf.url);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('serves an OpenAPI 3.1 document at /-/api/v1/openapi.json without a token', () => {
    expect(api.document.openapi).to.equal('3.1.0');
    expect(api.document.info.title).to.contain('Cache Forge');
    const ids = Object.values(api.document.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size, 'operationIds are unique').to.equal(ids.length);
  });

  it('documents every route of the router, and nothing else', () => {
    const routes = cf.server.managementApi!.routes.map((r) => `${r.method} ${API_BASE}${r.path}`).sort();
    const documented = Object.entries(api.document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(documented).to.deep.equal(routes);
  });

  it('every documented operation is answered by its route (not the router\'s 404 or 405)', async () => {
    for (const [template, item] of Object.entries(api.document.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) {
        const M = method.toUpperCase();
        // Bodies that fail validation still prove the route exists: the router checks a body only after matching.
        const res = await api.call(M, sample(template), { token: ADMIN, ...(M === 'POST' || M === 'PUT' ? { body: {} } : {}) });
        if (res.status === 404 && M !== 'HEAD') expect((res.body as { errors: { message: string }[] }).errors[0]!.message).to.not.contain('no API endpoint');
        expect(res.status, `${M} ${template}`).to.not.equal(405);
      }
    }
  });

  it('answers an unknown endpoint 404 and a wrong method 405 with Allow, in the coded error shape', async () => {
    const unknown = await fetch(`${cf.url}${API_BASE}/nothing-here`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(unknown.status).to.equal(404);
    expect((await unknown.json() as { errors: { code: string }[] }).errors[0]!.code).to.equal('CF_ERR_NOT_FOUND');
    const wrong = await fetch(`${cf.url}${API_BASE}/system`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(wrong.status).to.equal(405);
    expect(wrong.headers.get('allow')).to.equal('GET');
    expect((await wrong.json() as { errors: { code: string }[] }).errors[0]!.code).to.equal('CF_ERR_REQUEST_METHOD');
  });

  it('refuses a body that does not match the schema with 400 naming the field', async () => {
    const res = await api.call('POST', `${API_BASE}/tokens`, { token: ADMIN, body: { name: 'ci', scopes: ['root'] } });
    expect(res.status).to.equal(400);
    const error = (res.body as { errors: { code: string; message: string }[] }).errors[0]!;
    expect(error.code).to.equal('CF_ERR_API_BAD_REQUEST');
    expect(error.message).to.contain('body.scopes[0]: must be one of read, write, admin');
    const notJson = await api.call('POST', `${API_BASE}/tokens`, { token: ADMIN, body: '{"name":' });
    expect(notJson.status).to.equal(400);
    expect((notJson.body as { errors: { message: string }[] }).errors[0]!.message).to.contain('not valid JSON');
    const unknownQuery = await api.call('GET', `${API_BASE}/remotes?colour=blue`, { token: ADMIN });
    expect(unknownQuery.status).to.equal(400);
    expect((unknownQuery.body as { errors: { message: string }[] }).errors[0]!.message).to.contain('unknown field colour');
  });
});
