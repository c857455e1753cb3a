import { expect } from 'chai';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { request } from '../../src/testing/http.js';
import { CheckedApi } from '../api/checked-api.js';

const ADMIN = 'matrix-test-admin-token-0123456789abcd';
const V1 = '/-/api/v1';
const RANK = { read: 1, write: 2, admin: 3 } as const;
type Who = 'anonymous' | 'read' | 'write' | 'admin' | 'expired' | 'revoked';

function sample(template: string): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => (name === 'name' ? 'files' : name === 'path' ? 'doc.txt' : 'no-such-id'));
}

/**
 * Every documented endpoint and the artifact routes, called as each kind of caller: anonymous, a
 * token of each scope, an expired one and a revoked one. The expected outcome comes from the
 * scope the document declares, so an endpoint added later is covered too.
 */
describe('auth: the matrix of callers × every endpoint and the artifact routes', function () {
  this.timeout(60_000);
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const tokens: Partial<Record<Who, string>> = {};

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/doc.txt', { body: Buffer.from('doc\n') });
    cf = await startCacheForge({ auth: { anonymousRead: false, adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } }, { clock });
    api = await CheckedApi.open(cf.url);
    const make = async (name: string, scopes: string[], expiresIn?: string) => {
      const res = await api.call('POST', `${V1}/tokens`, { token: ADMIN, body: { name, scopes, ...(expiresIn ? { expiresIn } : {}) } });
      return res.body as { id: string; token: string };
    };
    tokens.read = (await make('m-read', ['read'])).token;
    tokens.write = (await make('m-write', ['write'])).token;
    tokens.admin = (await make('m-admin', ['admin'])).token;
    tokens.expired = (await make('m-expired', ['admin'], '1m')).token;
    const revoked = await make('m-revoked', ['admin']);
    tokens.revoked = revoked.token;
    await api.call('DELETE', `${V1}/tokens/${revoked.id}`, { token: ADMIN });
    clock.advance(120_000);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  const callers: Who[] = ['anonymous', 'read', 'write', 'admin', 'expired', 'revoked'];

  it('answers each endpoint by the scope it documents: 401 without a valid token, 403 below the scope, else the endpoint', async () => {
    const seen: string[] = [];
    for (const [template, item] of Object.entries(api.document.paths as Record<string, Record<string, { 'x-cacheforge-scope'?: keyof typeof RANK; security?: unknown[] }>>)) {
      for (const [method, op] of Object.entries(item)) {
        const M = method.toUpperCase();
        for (const who of callers) {
          const res = await api.call(M, sample(template), { ...(tokens[who] ? { token: tokens[who] } : {}), ...(M === 'POST' || M === 'PUT' ? { body: {} } : {}) });
          const cell = `${who} × ${M} ${template}`;
          seen.push(cell);
          if (op.security?.length === 0) expect(res.status, cell).to.equal(200);
          else if (who === 'anonymous' || who === 'expired' || who === 'revoked') {
            expect(res.status, cell).to.equal(401);
            if (M !== 'HEAD') expect((res.body as { errors: { code: string }[] }).errors[0]!.code, cell).to.equal(who === 'anonymous' ? 'CF_ERR_AUTH_REQUIRED' : 'CF_ERR_AUTH_INVALID');
          } else if (RANK[who] < RANK[op['x-cacheforge-scope']!]) expect(res.status, cell).to.equal(403);
          else expect(res.status, cell).to.not.be.oneOf([401, 403]);
        }
      }
    }
    expect(seen.length).to.be.at.least(callers.length * 12);
  });

  it('with anonymousRead false, the artifact routes take any valid token and refuse the rest with 401', async () => {
    for (const who of callers) {
      for (const method of ['GET', 'HEAD']) {
        const res = await request(`${cf.url}/files/doc.txt`, { method, headers: tokens[who] ? { authorization: `Bearer ${tokens[who]}` } : {} });
        const valid = who === 'read' || who === 'write' || who === 'admin';
        expect(res.status, `${who} × ${method} /files/doc.txt`).to.equal(valid ? 200 : 401);
        if (!valid) expect(res.headers['www-authenticate'], who).to.match(/^Basic /);
      }
    }
  });
});
