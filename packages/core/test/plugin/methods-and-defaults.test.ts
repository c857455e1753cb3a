import { expect } from 'chai';
import http from 'node:http';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { gzipSync, gunzipSync } from 'node:zlib';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { rejectsWith } from '../support/errors.js';
import { loadConfig } from '../../src/plugin/load-config.js';
import { checkContract } from '../../src/plugin/loader.js';
import { pluginModule } from './fixtures.js';

/**
 * The `relay` format: declares POST and PUT, relays `POST relay/<path>` with its body, refuses
 * `PUT`, and (wrongly) routes `PUT cached/<path>` to the cache, which the core must refuse. Its
 * `sums/<file>` are verified against a digest looked up (and counted) only on a miss, from a
 * `<file>.sha256` next to it. Its default upstream comes from the RELAY_UPSTREAM variable.
 */
const RELAY_PLUGIN = pluginModule(`{
  name: 'relay',
  core: '^0.1.0',
  methods: ['POST', 'PUT'],
  defaultUpstream({ env }) {
    if (env.RELAY_FAIL) throw new Error('no relay registry configured on this machine');
    return env.RELAY_UPSTREAM;
  },
  createHandler(remote) {
    return {
      canHandle(req) {
        if (req.method === 'POST' && req.segments[0] === 'relay') return { kind: 'passthrough' };
        if (req.method === 'PUT' && req.segments[0] === 'cached') return { kind: 'cached', key: req.path };
        if (req.method === 'PUT') return { kind: 'refused', status: 405, reason: 'publishing to a relay remote is not supported' };
        if (req.segments[0] === 'sums' || req.segments[0] === 'moved') return { kind: 'cached', key: req.path, class: 'immutable' };
        return undefined;
      },
      async fetch(req, route, ctx) {
        const url = remote.upstream.href + req.rawPath;
        if (route.kind === 'passthrough') return ctx.pipeline.passthrough(req, { url });
        if (req.segments[0] === 'moved') {
          return ctx.pipeline.serve(req, route, { url }, { verify: { kind: 'known', url: remote.upstream.href + 'elsewhere/' + req.segments[1] } });
        }
        return ctx.pipeline.serve(req, route, { url }, {
          verify: { kind: 'sidecar', sidecars: [{ route: { kind: 'cached', key: req.path + '.sha256', class: 'immutable' }, upstream: { url: url + '.sha256' }, algorithm: 'sha256' }] },
        });
      },
    };
  },
}`);

/** A loopback upstream that records each request with its whole body. */
class RecordingUpstream {
  readonly seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  readonly files = new Map<string, Buffer>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const file = this.files.get(req.url!);
      if (req.method === 'GET' && file) { res.writeHead(200, { 'content-length': file.length }).end(file); return; }
      const answer = /^\/relay\/status\/(\d+)$/.exec(req.url!);
      if (req.method === 'POST' && answer) {
        res.writeHead(Number(answer[1]), { 'content-type': 'application/json', 'x-upstream-reason': 'said so', allow: 'GET' })
          .end(JSON.stringify({ error: `upstream says ${answer[1]}` }));
        return;
      }
      if (req.method === 'POST') {
        const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString() : body.toString();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(text) }));
        return;
      }
      res.writeHead(404).end();
    });
  });

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get url(): string { return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`; }

  async stop(): Promise<void> { this.server.closeAllConnections(); this.server.close(); }
}

function send(url: string, method: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, 'content-length': String(body.length) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('plugin contract: extra methods, lazy miss details and default upstreams', () => {
  let dir: string;
  let pluginFile: string;
  let upstream: RecordingUpstream;
  let cf: RunningCacheForge;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-relay-'));
    pluginFile = path.join(dir, 'relay.mjs');
    await writeFile(pluginFile, RELAY_PLUGIN);
    upstream = await new RecordingUpstream().start();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-generic', pluginFile],
      remotes: {
        relay: { type: 'relay', upstream: upstream.url, client: { retries: 0 } },
        files: { type: 'generic', upstream: upstream.url },
      },
    });
  });
  after(async () => {
    await cf.cleanup();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('relays a declared POST with its gzip body and headers, storing nothing', async () => {
    const payload = gzipSync(JSON.stringify({ lodash: ['4.17.20'] }));
    const res = await send(`${cf.url}/relay/relay/audit`, 'POST', payload, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString())).to.deep.equal({ echoed: { lodash: ['4.17.20'] } });
    const seen = upstream.seen.at(-1)!;
    expect(seen.method).to.equal('POST');
    expect(seen.body.equals(payload)).to.equal(true);
    expect(seen.headers['content-encoding']).to.equal('gzip');
  });

  it("relays an upstream's 4xx to a relayed request as it said (status, body, headers); a 5xx is a 502", async () => {
    for (const status of [400, 404, 405, 429]) {
      const res = await send(`${cf.url}/relay/relay/status/${status}`, 'POST', Buffer.from('{}'), { 'content-type': 'application/json' });
      expect({ status: res.status, body: res.body.toString(), reason: res.headers['x-upstream-reason'], allow: res.headers.allow, cache: res.headers['x-cache-status'] })
        .to.deep.equal({ status, body: JSON.stringify({ error: `upstream says ${status}` }), reason: 'said so', allow: 'GET', cache: 'BYPASS' });
    }
    const failed = await send(`${cf.url}/relay/relay/status/503`, 'POST', Buffer.from('{}'), { 'content-type': 'application/json' });
    expect(failed.status).to.equal(502);
    expect(JSON.parse(failed.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('keeps refusing methods a plugin did not declare, and on plugins that declare none, with Allow naming what each takes', async () => {
    const undeclared = await send(`${cf.url}/relay/relay/x`, 'DELETE', Buffer.alloc(0), {});
    expect({ status: undeclared.status, allow: undeclared.headers.allow }).to.deep.equal({ status: 405, allow: 'GET, HEAD, POST, PUT' });
    expect(JSON.parse(undeclared.body.toString()).errors[0].message).to.include('use GET, HEAD, POST, PUT');
    const readOnly = await send(`${cf.url}/files/relay/x`, 'POST', Buffer.from('{}'), {});
    expect({ status: readOnly.status, allow: readOnly.headers.allow }).to.deep.equal({ status: 405, allow: 'GET, HEAD' });
  });

  it('answers a refused route with its 405 and reason, and never caches a body-carrying request', async () => {
    const refused = await send(`${cf.url}/relay/pkg`, 'PUT', Buffer.from('{}'), { 'content-type': 'application/json' });
    expect(refused.status).to.equal(405);
    expect(refused.body.toString()).to.include('publishing to a relay remote is not supported');
    // The refused method itself is not offered.
    expect(refused.headers.allow).to.equal('GET, HEAD, POST');
    const before = upstream.seen.length;
    const cached = await send(`${cf.url}/relay/cached/pkg`, 'PUT', Buffer.from('{}'), {});
    expect(cached.status).to.equal(405);
    expect(upstream.seen.length).to.equal(before);
  });

  it('answers 502 when the upstream of a relayed POST is down', async () => {
    const down = await startCacheForge({
      plugins: [pluginFile], remotes: { relay: { type: 'relay', upstream: 'http://127.0.0.1:9/', client: { retries: 0 } } },
    });
    try {
      const res = await send(`${down.url}/relay/relay/audit`, 'POST', Buffer.from('{}'), { 'content-type': 'application/json' });
      expect(res.status).to.equal(502);
      expect(res.body.toString()).to.match(/upstream/i);
    } finally {
      await down.cleanup();
    }
  });

  it('reads a checksum sidecar only on a miss, and never stores bytes that fail it (each miss retried once)', async () => {
    const good = Buffer.from('good artifact bytes');
    upstream.files.set('/sums/good.bin', good);
    upstream.files.set('/sums/good.bin.sha256', Buffer.from(createHash('sha256').update(good).digest('hex')));
    upstream.files.set('/sums/bad.bin', Buffer.from('tampered bytes'));
    upstream.files.set('/sums/bad.bin.sha256', Buffer.from(createHash('sha256').update('original bytes').digest('hex')));
    expect((await request(`${cf.url}/relay/sums/good.bin`)).body.equals(good)).to.equal(true);
    const hit = await request(`${cf.url}/relay/sums/good.bin`);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(upstream.seen.filter((r) => r.url === '/sums/good.bin.sha256').length).to.equal(1);
    for (let i = 0; i < 2; i++) {
      const bad = await request(`${cf.url}/relay/sums/bad.bin`);
      expect(bad.status === 502 || !bad.complete, `attempt ${i}: status ${bad.status}`).to.equal(true);
      expect(bad.body.toString()).not.to.equal('tampered bytes');
    }
    expect(upstream.seen.filter((r) => r.url === '/sums/bad.bin').length).to.equal(4);
  });

  it('fetches a miss from the location its verification names', async () => {
    upstream.files.set('/elsewhere/file.bin', Buffer.from('the real location'));
    const res = await request(`${cf.url}/relay/moved/file.bin`);
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal('the real location');
    expect(upstream.seen.some((r) => r.url === '/moved/file.bin')).to.equal(false);
  });

  it('refuses a plugin whose methods are not a list of POST, PUT, PATCH, DELETE', () => {
    const base = { name: 'bad', core: '^0.1.0', createHandler() { return {} as never; } };
    expect(() => checkContract({ ...base, methods: ['POST', 'TRACE'] }, 'bad')).to.throw(/CF_ERR_PLUGIN_CONTRACT|methods/);
    expect(() => checkContract({ ...base, methods: 'POST' }, 'bad')).to.throw(/methods/);
    expect(() => checkContract({ ...base, defaultUpstream: 'http://x/' }, 'bad')).to.throw(/defaultUpstream/);
    expect(() => checkContract({ ...base, methods: ['POST', 'DELETE'] }, 'good')).to.not.throw();
  });

  describe('default upstream', () => {
    const write = async (remote: Record<string, unknown>) => {
      const file = path.join(dir, `conf-${Math.random().toString(36).slice(2)}.json`);
      await writeFile(file, JSON.stringify({ plugins: [pluginFile, '@cacheforge/plugin-generic'], remotes: { r: remote } }));
      return file;
    };

    it('uses the format\'s discovered upstream when a remote names none, and the configured one otherwise', async () => {
      const env = { RELAY_UPSTREAM: 'http://127.0.0.1:4873/registry' };
      const implicit = await loadConfig({ configPath: await write({ type: 'relay' }), env });
      expect(implicit.config.remotes.r!.upstream.href).to.equal('http://127.0.0.1:4873/registry/');
      const explicit = await loadConfig({ configPath: await write({ type: 'relay', upstream: 'http://127.0.0.1:1/x/' }), env });
      expect(explicit.config.remotes.r!.upstream.href).to.equal('http://127.0.0.1:1/x/');
    });

    it('names the file and remotes.<name>.upstream when the format has no default or cannot discover one', async () => {
      const generic = await write({ type: 'generic' });
      const missing = await rejectsWith(loadConfig({ configPath: generic, env: {} }), 'CF_ERR_CONFIG_INVALID');
      expect(missing.message).to.include(generic).and.to.include('remotes.r.upstream: required (expected string)');
      const relay = await write({ type: 'relay' });
      const failed = await rejectsWith(loadConfig({ configPath: relay, env: { RELAY_FAIL: '1' } }), 'CF_ERR_CONFIG_INVALID');
      expect(failed.message).to.include('remotes.r.upstream').and.to.include('no relay registry configured on this machine');
    });
  });
});
