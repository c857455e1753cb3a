import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientVersion, runClient, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { cleanClientEnv } from './support/clients.js';
import { FakeRegistry, packTarball } from './support/fake-registry.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Enough documents that paying the connection retries once per document would show. */
const PACKAGES = 40;

/** One sample of `/-/metrics` (0 when the series does not exist yet). */
async function metric(cf: RunningCacheForge, series: string): Promise<number> {
  const text = await (await fetch(`${cf.url}/-/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * The npm case of a down upstream: everything is stored, every document has expired, and the
 * registry refuses connections. The install must succeed from STALE copies, and the upstream is
 * tried a handful of times (until it is marked down, then one probe per backoff), not once per
 * document with its retries.
 */
describe('plugin-npm: npm install without a lockfile while the registry is down', function () {
  this.timeout(180_000);

  it('succeeds from stale documents, and the dead upstream is tried only a few times', async function () {
    if (!clientVersion('npm')) {
      console.log('      npm is not installed (PATH): skipping');
      this.skip();
    }
    const registry = await new FakeRegistry().start();
    const dependencies: Record<string, string> = {};
    for (let i = 0; i < PACKAGES; i++) {
      const name = `lib-${i}`;
      // A chain as well as a fan-out, as real trees have: lib-i needs lib-(i+1).
      const deps = i + 1 < PACKAGES ? { [`lib-${i + 1}`]: '^1.0.0' } : undefined;
      registry.publish(name, { version: '1.0.0', tarball: packTarball(name, '1.0.0', { dependencies: deps }), dependencies: deps });
      dependencies[name] = '^1.0.0';
    }
    const upstream = registry.url; // kept: the port refuses connections once the registry stops
    let registryUp = true;
    const root = mkdtempSync(path.join(tmpdir(), 'cf-npm-offline-'));
    const start = (port: number, dataDir?: string) => startCacheForge({
      server: { host: '127.0.0.1', port, shutdownTimeout: '2s' },
      plugins: [PLUGIN],
      // TTL 0: every document has expired by the second install.
      remotes: { npm: { type: 'npm', upstream, ttl: { mutable: 0 } } },
    }, { dataDir });
    let cf = await start(0);
    const port = Number(new URL(cf.url).port);
    const install = async (phase: string) => {
      const dir = path.join(root, phase);
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', private: true, dependencies }));
      const env = cleanClientEnv(path.join(dir, '.home'));
      const started = Date.now();
      const run = await runClient('npm', ['install', '--registry', `${cf.url}/npm/`, '--cache', path.join(dir, '.client-cache'),
        '--no-audit', '--no-fund', '--package-lock=false'], { cwd: dir, env });
      const seconds = (Date.now() - started) / 1000;
      expect(run.code, run.output).to.equal(0);
      for (let i = 0; i < PACKAGES; i++) expect(existsSync(path.join(dir, 'node_modules', `lib-${i}`, 'package.json')), run.output).to.equal(true);
      return seconds;
    };
    try {
      const online = await install('online');
      expect(registry.count(/^\/lib-\d+$/)).to.be.at.least(PACKAGES);

      await registry.stop(); // its port now refuses connections
      registryUp = false;
      const dataDir = cf.dataDir;
      await cf.stop();
      cf = await start(port, dataDir);
      const offline = await install('offline');

      const res = await fetch(`${cf.url}/npm/lib-0`, { headers: { accept: 'application/json' } });
      expect(res.headers.get('x-cache-status')).to.equal('STALE');
      const tried = await metric(cf, 'cacheforge_upstream_errors_total{remote="npm",reason="CF_ERR_UPSTREAM_UNAVAILABLE"}');
      const turnedAway = await metric(cf, 'cacheforge_upstream_errors_total{remote="npm",reason="CF_ERR_UPSTREAM_DOWN"}');
      expect(await metric(cf, `cacheforge_upstream_up{remote="npm",host="${new URL(upstream).host}"}`)).to.equal(0);
      // 3 failures mark it down (plus whatever npm had in flight with them, all failing together);
      // then one probe per backoff (1s, 2s, 4s …) while the install runs. Before: once per document.
      expect(tried, `upstream tried ${tried} times for ${PACKAGES} documents`).to.be.below(PACKAGES / 2);
      expect(turnedAway).to.be.at.least(PACKAGES - tried);
      console.log(`      npm install of ${PACKAGES} packages: online ${online.toFixed(1)} s, registry down ${offline.toFixed(1)} s (upstream tried ${tried} times, ${turnedAway} requests served without trying)`);
    } finally {
      await cf.cleanup();
      if (registryUp) await registry.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
