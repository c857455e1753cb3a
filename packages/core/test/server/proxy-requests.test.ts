import { expect } from 'chai';
import net from 'node:net';
import { hostname } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, type Fetched } from '../../src/testing/http.js';
import { proxyRouter } from '../../src/server/proxy-target.js';
import type { MountedRemote } from '../../src/plugin/remote-registry.js';
import { isCacheForgeError } from '../../src/errors/errors.js';
import { pluginModule } from '../plugin/fixtures.js';

/** The `where` format: answers every path with what the handler was given (path, public base, query). */
const WHERE_PLUGIN = pluginModule(`{
  name: 'where',
  core: '^0.1.0',
  createHandler(remote) {
    return {
      canHandle() { return { kind: 'passthrough' }; },
      async fetch(req) {
        return { status: 200, cacheStatus: 'BYPASS', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ remote: remote.name, path: req.path, publicBase: req.publicBase.href, search: req.search }) };
      },
    };
  },
}`);

/** Sends `raw` on a fresh socket to `port` and reads until the server closes it. */
async function rawExchange(port: number, raw: string): Promise<{ status: number; head: string; body: string }> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(raw);
  await new Promise<void>((resolve, reject) => { socket.on('close', () => resolve()); socket.on('error', reject); });
  const text = Buffer.concat(chunks).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]), head: text.slice(0, split), body: text.slice(split + 4) };
}

/** A GET whose request line carries the absolute URL `target` (what a client with an HTTP proxy sends). */
function viaProxy(cf: RunningCacheForge, target: string, headers?: Record<string, string>): Promise<Fetched> {
  return request(cf.url, { path: target, headers });
}

const codeOf = (res: Fetched) => JSON.parse(res.body.toString()).errors[0].code as string;

describe('server: absolute-form (proxy) requests are routed by their target', function () {
  this.timeout(30_000);
  let mirror: FakeUpstream;
  let dir: string;
  let cf: RunningCacheForge;
  let port: string;

  before(async () => {
    mirror = await new FakeUpstream().start();
    mirror.set('/debian/dists/bookworm/InRelease', { body: Buffer.from('suite bookworm') });
    mirror.set('/debian/pool/main/h/hello.deb', { body: Buffer.from('a package') });
    mirror.set('/other/file.txt', { body: Buffer.from('not configured') });
    dir = await mkdtemp(path.join(tmpdir(), 'cf-proxy-'));
    await writeFile(path.join(dir, 'where.mjs'), WHERE_PLUGIN);
    port = new URL(mirror.url).port;
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-generic', path.join(dir, 'where.mjs')],
      remotes: {
        debian: { type: 'generic', upstream: `${mirror.url}debian/` },
        // A longer upstream path on the same origin wins for the paths under it.
        pool: { type: 'where', upstream: `${mirror.url}debian/pool/` },
        files: { type: 'generic', upstream: `${mirror.url}other/` },
      },
    });
  });
  after(async () => { await cf.cleanup(); await mirror.stop(); await rm(dir, { recursive: true, force: true }); });

  it('serves a target under a remote\'s upstream as that remote, with the rest of the path', async () => {
    const res = await viaProxy(cf, `${mirror.url}debian/dists/bookworm/InRelease`);
    expect({ status: res.status, body: res.body.toString(), cache: res.headers['x-cache-status'] }).to.deep.equal({ status: 200, body: 'suite bookworm', cache: 'MISS' });
    expect(mirror.count('/debian/dists/bookworm/InRelease')).to.equal(1);
    // The same artifact asked the usual way is the same cached object.
    const byName = await request(`${cf.url}/debian/dists/bookworm/InRelease`);
    expect({ body: byName.body.toString(), cache: byName.headers['x-cache-status'] }).to.deep.equal({ body: 'suite bookworm', cache: 'HIT' });
    expect(mirror.count('/debian/dists/bookworm/InRelease')).to.equal(1);
  });

  it('picks the remote with the longest matching upstream path, and gives it the base the client used', async () => {
    const res = await viaProxy(cf, `http://user:secret@127.0.0.1:${port}/debian/pool/main/h/hello.deb?arch=amd64`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString())).to.deep.equal({
      remote: 'pool', path: 'main/h/hello.deb', publicBase: `http://127.0.0.1:${port}/debian/pool/`, search: '?arch=amd64',
    });
  });

  it('no longer serves any host by the remote named in its first path segment', async () => {
    const before = mirror.requests.length;
    const res = await viaProxy(cf, 'http://any-host.example/debian/dists/bookworm/InRelease');
    expect(res.status).to.equal(403);
    const error = JSON.parse(res.body.toString()).errors[0];
    expect(error.code).to.equal('CF_ERR_PROXY_TARGET_NOT_CONFIGURED');
    expect(error.message).to.include('http://any-host.example/debian/dists/bookworm/InRelease').and.to.include('upstream: http://any-host.example/debian/');
    expect(mirror.requests.length).to.equal(before);
  });

  it('refuses a path of a configured origin that no remote\'s upstream covers, naming what it does serve', async () => {
    const res = await viaProxy(cf, `${mirror.url}elsewhere/x.txt`);
    expect(res.status).to.equal(403);
    const error = JSON.parse(res.body.toString()).errors[0];
    expect(error.code).to.equal('CF_ERR_PROXY_TARGET_NOT_CONFIGURED');
    expect(error.message).to.include(`remote "debian" for paths under /debian/`).and.to.include(`upstream: ${mirror.url}elsewhere/`);
    expect(mirror.count('/elsewhere/x.txt')).to.equal(0);
  });

  it('never echoes the userinfo of a target, nor passes it on', async () => {
    const refused = await viaProxy(cf, 'http://alice:hunter2@unknown.example:8080/pkg/a.tgz');
    expect(refused.status).to.equal(403);
    expect(refused.body.toString()).not.to.include('hunter2').and.not.to.include('alice');
    expect(refused.body.toString()).to.include('http://unknown.example:8080/pkg/a.tgz');
    const served = await viaProxy(cf, `http://alice:hunter2@127.0.0.1:${port}/other/file.txt`);
    expect(served.body.toString()).to.equal('not configured');
    expect(mirror.requests.filter((r) => r.path === '/other/file.txt').map((r) => r.headers.authorization)).to.deep.equal([undefined]);
  });

  it('routes a target naming this instance by its path, as an ordinary request', async () => {
    const self = new URL(cf.url);
    for (const host of [`127.0.0.1:${self.port}`, `localhost:${self.port}`]) {
      const res = await viaProxy(cf, `http://${host}/debian/dists/bookworm/InRelease`);
      expect({ host, status: res.status, body: res.body.toString() }).to.deep.equal({ host, status: 200, body: 'suite bookworm' });
    }
    const health = await viaProxy(cf, `http://localhost:${self.port}/-/health`);
    expect(JSON.parse(health.body.toString()).status).to.equal('ok');
  });

  it('checks the path below the remote as for any request', async () => {
    const res = await viaProxy(cf, `${mirror.url}debian/dists/../../etc/passwd`);
    expect({ status: res.status, code: codeOf(res) }).to.deep.equal({ status: 400, code: 'CF_ERR_REQUEST_BAD_PATH' });
  });

  it('answers an absolute-form request on a raw socket (what apt sends to its Acquire::http::Proxy)', async () => {
    const res = await rawExchange(Number(new URL(cf.url).port),
      `GET ${mirror.url}debian/pool/main/h/hello.deb HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body).remote).to.equal('pool');
  });

  it('refuses CONNECT with 405 and a coded reason instead of closing the socket', async () => {
    const res = await rawExchange(Number(new URL(cf.url).port), 'CONNECT user:pw@mirror.example:443 HTTP/1.1\r\nHost: mirror.example:443\r\n\r\n');
    expect(res.status).to.equal(405);
    expect(res.head).to.match(/\r\nAllow: GET, HEAD\r\n/);
    const error = JSON.parse(res.body).errors[0];
    expect(error.code).to.equal('CF_ERR_PROXY_CONNECT_REFUSED');
    expect(error.message).to.include('not a tunnel').and.to.include('http://');
    expect(res.body).not.to.include('pw@');
    // The server still answers after it.
    expect((await request(`${cf.url}/-/health`)).status).to.equal(200);
  });
});

describe('server: proxy target routing rules', () => {
  const remote = (name: string, upstream: string) => ({ config: { name }, definition: { upstream: new URL(upstream) } }) as unknown as MountedRemote;
  const refused = (fn: () => unknown): string => {
    try { fn(); } catch (err) { if (isCacheForgeError(err)) return err.code; throw err; }
    return 'not refused';
  };

  it('matches an http target to an https upstream of the same host on the default ports, and prefers an exact origin', () => {
    const route = proxyRouter([remote('secure', 'https://mirror.example/debian/')], {});
    expect(route('http://mirror.example/debian/dists/x', 8080)).to.deep.include({ kind: 'remote', remote: 'secure', rawPath: 'dists/x' });
    expect(refused(() => route('http://mirror.example:8081/debian/dists/x', 8080))).to.equal('CF_ERR_PROXY_TARGET_NOT_CONFIGURED');
    const both = proxyRouter([remote('secure', 'https://mirror.example/debian/'), remote('plain', 'http://mirror.example/debian/')], {});
    expect(both('http://mirror.example/debian/a', 8080)).to.deep.include({ remote: 'plain' });
    expect(both('https://mirror.example/debian/a', 8080)).to.deep.include({ remote: 'secure' });
  });

  it('keeps config order between remotes with the same upstream, and serves an upstream\'s root path', () => {
    const route = proxyRouter([remote('first', 'http://m.example/r/'), remote('second', 'http://m.example/r/'), remote('top', 'http://m.example/')], {});
    expect(route('http://m.example/r/x', 80)).to.deep.include({ remote: 'first', rawPath: 'x' });
    expect(route('http://m.example/r', 80)).to.deep.include({ remote: 'first', rawPath: '' });
    expect(route('http://M.EXAMPLE:80/q', 80)).to.deep.include({ remote: 'top', rawPath: 'q' });
  });

  it('treats server.publicUrl and this machine\'s name on the listening port as this instance', () => {
    const route = proxyRouter([remote('any', 'http://cache.example/')], { publicUrl: new URL('http://cache.example/') });
    expect(route('http://cache.example/npm/x', 9999)).to.deep.equal({ kind: 'path' });
    expect(route(`http://${hostname()}:4873/npm/x`, 4873)).to.deep.equal({ kind: 'path' });
    expect(refused(() => route(`http://${hostname()}:4874/npm/x`, 4873))).to.equal('CF_ERR_PROXY_TARGET_NOT_CONFIGURED');
    expect(route('/npm/x', 4873)).to.deep.equal({ kind: 'path' });
  });

  it('refuses a target that is no http(s) URL', () => {
    const route = proxyRouter([], {});
    expect(refused(() => route('ftp://mirror.example/x', 80))).to.equal('CF_ERR_REQUEST_BAD_PATH');
    expect(refused(() => route('http:///x', 80))).to.equal('CF_ERR_REQUEST_BAD_PATH');
  });
});
