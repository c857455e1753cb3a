import { expect } from 'chai';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { loadConfig } from '../../src/plugin/load-config.js';

/** A relay that forwards every request, headers and all, to `target`: a loop through a detour. */
async function relay(target: () => string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const out = http.request(`${target()}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(target()).host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => { res.statusCode = 502; res.end(); });
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('security: loop guard', function () {
  this.timeout(20_000);

  describe('Via', () => {
    let cf: RunningCacheForge;
    let upstream: FakeUpstream;
    let detour: Awaited<ReturnType<typeof relay>>;
    before(async () => {
      upstream = await new FakeUpstream().start();
      detour = await relay(() => cf.url);
      cf = await startCacheForge({
        remotes: {
          // a's upstream is b on this same instance, and b's is a, through a relay the config check cannot see through.
          a: { type: 'generic', upstream: `${detour.url}/b/`, client: { retries: 0, responseTimeout: '10s' } },
          b: { type: 'generic', upstream: `${detour.url}/a/`, client: { retries: 0, responseTimeout: '10s' } },
          real: { type: 'generic', upstream: upstream.url },
        },
      });
    });
    after(async () => { await cf.cleanup(); await detour.close(); await upstream.stop(); });

    it('every upstream request carries Via: 1.1 cacheforge-<instance id>', async () => {
      upstream.set('/via.tar.gz', { body: Buffer.from('v') });
      expect((await request(`${cf.url}/real/via.tar.gz`)).status).to.equal(200);
      const seen = upstream.requests.find((r) => r.path === '/via.tar.gz')!;
      expect(seen.headers.via).to.match(/^1\.1 cacheforge-[0-9a-f]{16}$/);
    });

    it('a request that comes back with its own id is answered 508 CF_ERR_LOOP_DETECTED, at once', async () => {
      const res = await request(`${cf.url}/a/pkg.tar.gz`);
      expect(res.status).to.equal(508);
      const error = (JSON.parse(res.body.toString()) as { errors: { code: string }[] }).errors[0]!;
      expect(error.code).to.equal('CF_ERR_LOOP_DETECTED');
    });

    it('a request carrying another instance\'s id is served', async () => {
      upstream.set('/other.tar.gz', { body: Buffer.from('o') });
      const res = await request(`${cf.url}/real/other.tar.gz`, { headers: { via: '1.1 cacheforge-0000000000000000, 1.1 squid' } });
      expect(res.status).to.equal(200);
    });
  });

  describe('config check', () => {
    let dir: string;
    before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-loop-')); });
    after(async () => { await rm(dir, { recursive: true, force: true }); });

    const load = async (server: Record<string, unknown>, upstream: string) => {
      const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
      await writeFile(file, JSON.stringify({
        server, plugins: ['@cacheforge/plugin-generic'], storage: { filesystem: { path: dir } }, metadata: { sqlite: { filename: path.join(dir, 'db') } },
        remotes: { files: { type: 'generic', upstream } },
      }));
      try { await loadConfig({ configPath: file, env: {} }); return undefined; } catch (err) { return err as Error & { code?: string }; }
    };

    it('a remote whose upstream is this instance\'s own listen address is a config error naming remotes.<name>.upstream', async () => {
      for (const [host, upstream] of [
        ['0.0.0.0', 'http://127.0.0.1:18080/npm/'], ['0.0.0.0', 'http://localhost:18080/'], ['127.0.0.1', 'http://0.0.0.0:18080/'], ['127.0.0.1', 'http://[::1]:18080/x/'],
      ] as const) {
        const err = await load({ host, port: 18080 }, upstream);
        expect(err?.code, `${host} ${upstream}`).to.equal('CF_ERR_CONFIG_INVALID');
        expect(err!.message).to.contain('remotes.files.upstream').and.to.contain('own listen address');
      }
    });

    it('another port, or a port chosen at start, is no loop', async () => {
      expect(await load({ host: '0.0.0.0', port: 18080 }, 'http://127.0.0.1:18081/')).to.equal(undefined);
      expect(await load({ host: '127.0.0.1', port: 0 }, 'http://127.0.0.1:18080/')).to.equal(undefined);
    });
  });
});
