import { expect } from 'chai';
import knexFactory from 'knex';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { request } from '../../src/testing/http.js';
import { loadConfig } from '../../src/plugin/load-config.js';
import { writeTestConfig } from '../../src/testing/config.js';
import { CheckedApi } from '../api/checked-api.js';

const ADMIN = 'tokens-test-admin-token-0123456789abcdef';
const METRICS = 'tokens-test-metrics-token-0123456789';
const V1 = '/-/api/v1';

interface Created { id: string; name: string; token: string; scopes: string[] }
const errorCode = (body: unknown) => (body as { errors: { code: string }[] }).errors[0]!.code;

describe('auth: tokens through the API, and who may read what', function () {
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const logs = new LogCapture();
  const values: string[] = [];

  async function create(body: Record<string, unknown>): Promise<Created> {
    const res = await api.call('POST', `${V1}/tokens`, { token: ADMIN, body });
    expect(res.status, res.text).to.equal(201);
    const created = res.body as Created;
    values.push(created.token);
    return created;
  }

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/a.txt', { body: Buffer.from('remote a\n') });
    process.env.CF_TOKENS_TEST_ADMIN = ADMIN;
    cf = await startCacheForge({
      log: { level: 'debug' },
      auth: { anonymousRead: false, adminTokens: ['${CF_TOKENS_TEST_ADMIN}'], metricsToken: METRICS },
      metadata: undefined,
      remotes: { one: { type: 'generic', upstream: upstream.url }, two: { type: 'generic', upstream: upstream.url } },
    }, { clock, logTo: logs });
    api = await CheckedApi.open(cf.url);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('answers the API without a token 401 with a Bearer challenge, and a bad token 401 CF_ERR_AUTH_INVALID', async () => {
    const none = await api.call('GET', `${V1}/system`);
    expect(none.status).to.equal(401);
    expect(errorCode(none.body)).to.equal('CF_ERR_AUTH_REQUIRED');
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer realm="cacheforge"/);
    const bad = await api.call('GET', `${V1}/system`, { token: 'cf_not-a-token-anyone-made' });
    expect(bad.status).to.equal(401);
    expect(errorCode(bad.body)).to.equal('CF_ERR_AUTH_INVALID');
  });

  it('creates a token shown once, stored only as its hash, listed without its value', async () => {
    const made = await create({ name: 'ci-read', scopes: ['read'] });
    expect(made.token).to.match(/^cf_[A-Za-z0-9_-]{43}$/);
    const list = await api.call('GET', `${V1}/tokens`, { token: ADMIN });
    expect(list.status).to.equal(200);
    expect(list.text).to.not.contain(made.token);
    const listed = (list.body as { tokens: { id: string; state: string; lastUsedAt: string | null }[] }).tokens.find((t) => t.id === made.id)!;
    expect(listed.state).to.equal('active');
    const db = knexFactory({ client: 'better-sqlite3', connection: { filename: path.join(cf.dataDir, 'cacheforge.db') }, useNullAsDefault: true });
    try {
      const rows = await db('cf_tokens').select() as Record<string, unknown>[];
      expect(JSON.stringify(rows)).to.not.contain(made.token);
      expect(rows.find((r) => r.id === made.id)!.hash).to.match(/^[0-9a-f]{64}$/);
    } finally { await db.destroy(); }
  });

  it('takes the token as Bearer, as a bare header value, and as a Basic password with any user', async () => {
    const made = await create({ name: 'forms', scopes: ['read'] });
    for (const authorization of [`Bearer ${made.token}`, made.token, `Basic ${Buffer.from(`whoever:${made.token}`).toString('base64')}`]) {
      const res = await api.call('GET', `${V1}/system`, { authorization });
      expect(res.status, authorization.slice(0, 6)).to.equal(200);
    }
  });

  it('answers a valid token without the scope 403, and keeps its last-used time', async () => {
    const made = await create({ name: 'reader', scopes: ['read'] });
    const res = await api.call('POST', `${V1}/tokens`, { token: made.token, body: { name: 'escalate', scopes: ['admin'] } });
    expect(res.status).to.equal(403);
    expect(errorCode(res.body)).to.equal('CF_ERR_AUTH_FORBIDDEN');
    const listed = (await api.call('GET', `${V1}/tokens`, { token: ADMIN })).body as { tokens: { name: string; lastUsedAt: string | null }[] };
    expect(listed.tokens.find((t) => t.name === 'reader')!.lastUsedAt).to.equal(new Date(clock.now()).toISOString());
  });

  it('refuses a second token of the same name with 409', async () => {
    await create({ name: 'twice', scopes: ['read'] });
    const again = await api.call('POST', `${V1}/tokens`, { token: ADMIN, body: { name: 'twice', scopes: ['read'] } });
    expect(again.status).to.equal(409);
    expect(errorCode(again.body)).to.equal('CF_ERR_API_CONFLICT');
  });

  it('stops accepting a token once it expires, and at once when it is revoked', async () => {
    const short = await create({ name: 'short', scopes: ['read'], expiresIn: '1h' });
    expect((await api.call('GET', `${V1}/system`, { token: short.token })).status).to.equal(200);
    clock.advance(3600_000);
    const expired = await api.call('GET', `${V1}/system`, { token: short.token });
    expect(expired.status).to.equal(401);
    expect((expired.body as { errors: { message: string }[] }).errors[0]!.message).to.contain('expired');

    const revoked = await create({ name: 'revoked', scopes: ['read'] });
    expect((await api.call('GET', `${V1}/system`, { token: revoked.token })).status).to.equal(200);
    expect((await api.call('DELETE', `${V1}/tokens/${revoked.id}`, { token: ADMIN })).status).to.equal(204);
    const after = await api.call('GET', `${V1}/system`, { token: revoked.token });
    expect(after.status).to.equal(401);
    expect((after.body as { errors: { message: string }[] }).errors[0]!.message).to.contain('revoked');
    expect((await api.call('DELETE', `${V1}/tokens/${revoked.id}`, { token: ADMIN })).status).to.equal(404);
    const states = ((await api.call('GET', `${V1}/tokens`, { token: ADMIN })).body as { tokens: { name: string; state: string }[] }).tokens;
    expect(states.find((t) => t.name === 'short')!.state).to.equal('expired');
    expect(states.find((t) => t.name === 'revoked')!.state).to.equal('revoked');
  });

  it('with anonymousRead false: an artifact needs a read token (401 Basic challenge), a remote-limited token gets 403 elsewhere', async () => {
    const none = await request(`${cf.url}/one/a.txt`);
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.match(/^Basic realm="cacheforge"/);
    const reader = await create({ name: 'only-one', scopes: ['read'], remotes: ['one'] });
    const ok = await request(`${cf.url}/one/a.txt`, { headers: { authorization: `Basic ${Buffer.from(`pip:${reader.token}`).toString('base64')}` } });
    expect(ok.status).to.equal(200);
    expect(ok.body.toString()).to.equal('remote a\n');
    const other = await request(`${cf.url}/two/a.txt`, { headers: { authorization: `Bearer ${reader.token}` } });
    expect(other.status).to.equal(403);
    expect(JSON.parse(other.body.toString()).errors[0].code).to.equal('CF_ERR_AUTH_FORBIDDEN');
    expect((await request(`${cf.url}/`)).status).to.equal(401);
  });

  it('asks a client using it as an HTTP proxy for Proxy-Authorization with a 407', async () => {
    const target = new URL("a.txt", upstream.url.endsWith("/") ? upstream.url : `${upstream.url}/`).href;
    const none = await request(cf.url, { path: target });
    expect(none.status).to.equal(407);
    expect(none.headers['proxy-authenticate']).to.match(/^Basic realm="cacheforge"/);
    const reader = await create({ name: 'apt-proxy', scopes: ['read'] });
    const ok = await request(cf.url, { path: target, headers: { 'proxy-authorization': `Basic ${Buffer.from(`apt:${reader.token}`).toString('base64')}` } });
    expect(ok.status, ok.body.toString()).to.equal(200);
    expect(ok.body.toString()).to.equal('remote a\n');
  });

  it('needs no token for /-/health and openapi.json; /-/metrics needs auth.metricsToken when set', async () => {
    expect((await request(`${cf.url}/-/health`)).status).to.equal(200);
    expect((await request(`${cf.url}${V1}/openapi.json`)).status).to.equal(200);
    const refused = await request(`${cf.url}/-/metrics`);
    expect(refused.status).to.equal(401);
    expect((await request(`${cf.url}/-/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).status).to.equal(200);
    expect((await request(`${cf.url}/-/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).to.equal(200);
  });

  it('never writes a token value into the log', async () => {
    expect(values.length).to.be.greaterThan(5);
    const text = JSON.stringify(logs.lines);
    expect(logs.lines.length).to.be.greaterThan(10);
    for (const value of [...values, ADMIN, METRICS]) expect(text).to.not.contain(value);
  });
});

describe('auth: the auth config section', function () {
  it('warns at start when no admin token is configured', async () => {
    const logs = new LogCapture();
    const cf = await startCacheForge({ log: { level: 'info' } }, { logTo: logs });
    try {
      expect(logs.lines.some((l) => l.level === 'warn' || (l.level as unknown) === 40) && JSON.stringify(logs.lines).includes('no admin token configured')).to.equal(true);
    } finally { await cf.cleanup(); }
  });

  it('names the file and the key of a bad auth setting', async () => {
    const dir = await (await import('node:fs/promises')).mkdtemp(path.join((await import('node:os')).tmpdir(), 'cf-auth-'));
    const file = await writeTestConfig(dir, { auth: { adminTokens: ['short'], anonymousRead: 'no' as unknown as boolean } });
    const err = await loadConfig({ configPath: file }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.contain(file);
    expect(err?.message).to.contain('auth.adminTokens[0]: expected a token of at least 24 characters');
    expect(err?.message).to.contain('auth.anonymousRead');
    const unset = await writeTestConfig(dir, { auth: { adminTokens: ['${CF_AUTH_TEST_NOT_SET}'] } });
    const err2 = await loadConfig({ configPath: unset, env: {} }).then(() => undefined, (e: Error) => e);
    expect(err2?.message).to.contain('auth.adminTokens[0]');
    expect(err2?.message).to.contain('CF_AUTH_TEST_NOT_SET');
  });
});
