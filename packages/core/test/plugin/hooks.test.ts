import { expect } from 'chai';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, type Fetched } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';
import { HOOKS_PLUGIN } from './hooks-fixture.js';
import { NamespacedStore } from '../../src/plugin/plugin-store.js';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';

const hex = (body: string) => createHash('sha256').update(body).digest('hex');

/**
 * A request made once the previous fill of its key is recorded: one that arrives while the fill is
 * being recorded joins it (a HIT without asking the upstream), so it is repeated, boundedly.
 */
async function settled(url: string): Promise<Fetched> {
  let res: Fetched | undefined;
  await waitFor(`a request of ${url} that does not join the fill before it`, async () => {
    res = await request(url);
    return res.headers['x-cache-status'] !== 'HIT';
  }, 2000);
  return res!;
}

/** An upstream that wants `Authorization: Token good` (from its /token) and serves a few documents. */
class TokenUpstream {
  readonly seen: string[] = [];
  tokenRequests = 0;
  docs = new Map<string, { body: string; digest?: string }>();
  private server = http.createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    this.seen.push(line);
    if (req.url === '/token') { this.tokenRequests++; res.end('good'); return; }
    if (req.headers.authorization !== 'Token good') {
      res.writeHead(401, { 'www-authenticate': `Token realm="${this.url}/token"` });
      res.end();
      return;
    }
    const doc = this.docs.get(req.url!.slice(1));
    if (!doc) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(doc.body), ...(doc.digest ? { 'x-digest': doc.digest } : {}) });
    res.end(req.method === 'HEAD' ? undefined : doc.body);
  });

  get url(): string { return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`; }
  count(line: string): number { return this.seen.filter((l) => l === line).length; }
  async start(): Promise<this> { await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r)); return this; }
  stop(): Promise<void> { this.server.closeAllConnections(); return new Promise((r) => this.server.close(() => r())); }
}

describe('plugin: optional facilities (mount, error body, upstream auth, store, HEAD validator, digest header, alias)', function () {
  this.timeout(30_000);
  let upstream: TokenUpstream;
  let cf: RunningCacheForge;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-hooks-'));
    await writeFile(path.join(dir, 'hooks.mjs'), HOOKS_PLUGIN);
    upstream = await new TokenUpstream().start();
    cf = await startCacheForge({
      plugins: [path.join(dir, 'hooks.mjs'), '@cacheforge/plugin-generic'],
      remotes: {
        r1: { type: 'hooks', upstream: `${upstream.url}/`, ttl: { mutable: 0 } },
        plain: { type: 'generic', upstream: `${upstream.url}/` },
      },
    });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); await rm(dir, { recursive: true, force: true }); });

  it('answers at the mount root itself, and routes by first segment or by ?ns=', async () => {
    const ping = await request(`${cf.url}/hk/`);
    expect([ping.status, ping.body.toString(), ping.headers['x-hooks']]).to.deep.equal([200, 'pong', 'ping']);
    upstream.docs.set('doc/a', { body: 'A' });
    expect((await request(`${cf.url}/hk/r1/doc/a`)).body.toString()).to.equal('A');
    const byNs = await request(`${cf.url}/hk/doc/a?ns=${new URL(upstream.url).host}`);
    expect([byNs.status, byNs.body.toString(), byNs.headers['x-routed-by']]).to.deep.equal([200, 'A', 'ns']);
    expect((await request(`${cf.url}/r1/doc/a`)).body.toString(), 'the remote is still served at /<remote>/').to.equal('A');
  });

  it('writes errors of its routes in the format\'s body, with the core\'s status; other remotes keep the core body', async () => {
    const unknown = await request(`${cf.url}/hk/nothing/here`);
    expect(unknown.status).to.equal(404);
    expect(JSON.parse(unknown.body.toString())).to.deep.equal({ problem: 'CF_ERR_REMOTE_UNKNOWN', status: 404, path: '/hk/nothing/here' });
    expect(unknown.headers['x-format']).to.equal('hooks');
    for (const url of [`${cf.url}/hk/r1/doc/a`, `${cf.url}/r1/doc/a`]) {
      const refused = await request(url, { method: 'PUT' });
      expect(refused.status).to.equal(405);
      expect((JSON.parse(refused.body.toString()) as { problem: string }).problem).to.equal('CF_ERR_REQUEST_METHOD');
    }
    const missing = await request(`${cf.url}/hk/r1/doc/missing`);
    expect([missing.status, (JSON.parse(missing.body.toString()) as { problem: string }).problem]).to.deep.equal([404, 'CF_ERR_UPSTREAM_NOT_FOUND']);
    const generic = await request(`${cf.url}/plain/x`, { method: 'PUT' });
    expect((JSON.parse(generic.body.toString()) as { errors: { code: string }[] }).errors[0]!.code).to.equal('CF_ERR_REQUEST_METHOD');
  });

  it('authenticates through the hook: one token round trip, kept in the plugin store for later requests', async () => {
    expect(upstream.tokenRequests).to.equal(1);
    upstream.docs.set('doc/b', { body: 'B' });
    upstream.docs.set('doc/c', { body: 'C' });
    expect((await request(`${cf.url}/hk/r1/doc/b`)).body.toString()).to.equal('B');
    expect((await request(`${cf.url}/hk/r1/doc/c`)).body.toString()).to.equal('C');
    expect(upstream.tokenRequests).to.equal(1);
    expect(upstream.count('GET /doc/b')).to.equal(1, 'sent with the kept token at once, no 401 first');
  });

  it('revalidates with HEAD when the validator header is unchanged; GETs when it changed', async () => {
    upstream.docs.set('tag/t1', { body: 'one', digest: `sha256:${hex('one')}` });
    expect((await request(`${cf.url}/hk/r1/tag/t1`)).body.toString()).to.equal('one');
    const again = await settled(`${cf.url}/hk/r1/tag/t1`);
    expect([again.headers['x-cache-status'], again.body.toString()]).to.deep.equal(['REVALIDATED', 'one']);
    expect(upstream.count('GET /tag/t1')).to.equal(1);
    expect(upstream.count('HEAD /tag/t1')).to.equal(1);
    upstream.docs.set('tag/t1', { body: 'two', digest: `sha256:${hex('two')}` });
    const moved = await settled(`${cf.url}/hk/r1/tag/t1`);
    expect([moved.headers['x-cache-status'], moved.body.toString()]).to.deep.equal(['MISS', 'two']);
  });

  it('keeps the handler\'s own headers on hot hits', async () => {
    const res = await settled(`${cf.url}/hk/r1/tag/t1`);
    expect(res.headers['x-added']).to.equal('by-handler');
    expect(res.headers['x-digest']).to.equal(`sha256:${hex('two')}`);
  });

  it('verifies the body against the digest header and stores nothing that differs', async () => {
    upstream.docs.set('tag/liar', { body: 'real', digest: `sha256:${hex('claimed')}` });
    const res = await request(`${cf.url}/hk/r1/tag/liar`);
    expect(res.complete && res.status === 200 && res.body.toString() === 'real').to.equal(false);
    upstream.docs.set('tag/liar', { body: 'real', digest: `sha256:${hex('real')}` });
    const fixed = await request(`${cf.url}/hk/r1/tag/liar`);
    expect([fixed.status, fixed.headers['x-cache-status'], fixed.body.toString()]).to.deep.equal([200, 'MISS', 'real']);
  });

  it('fills on HEAD when asked, answering once stored: the upstream sees a GET, not a HEAD', async () => {
    upstream.docs.set('tag/headed', { body: 'headed', digest: `sha256:${hex('headed')}` });
    const head = await request(`${cf.url}/hk/r1/tag/headed`, { method: 'HEAD' });
    expect([head.status, head.headers['x-digest'], head.body.length]).to.deep.equal([200, `sha256:${hex('headed')}`, 0]);
    expect(upstream.count('HEAD /tag/headed')).to.equal(0);
    expect(upstream.count('GET /tag/headed')).to.equal(1);
  });

  it('records a filled object under its alias: a request by digest is a hit without the upstream', async () => {
    const res = await request(`${cf.url}/hk/r1/by-digest/${hex('headed')}`);
    expect([res.status, res.headers['x-cache-status'], res.body.toString()]).to.deep.equal([200, 'HIT', 'headed']);
    expect(upstream.seen.filter((l) => l.includes('by-digest'))).to.deep.equal([]);
  });

  it('plugin store: keys are namespaced per plugin and remote, and need a TTL', async () => {
    const cache = new KeyvCache({ name: 'memory' });
    const a = new NamespacedStore(cache, 'p', 'r1');
    const b = new NamespacedStore(cache, 'p', 'r2');
    await a.set('k', 'va', 1000);
    expect(await a.get('k')).to.equal('va');
    expect(await b.get('k')).to.equal(undefined);
    expect(await cache.get('plugin:p:r1:k')).to.equal('va');
    await a.delete('k');
    expect(await a.get('k')).to.equal(undefined);
    expect(() => a.set('k', 1, 0)).to.throw(RangeError);
    await cache.close();
  });
});
