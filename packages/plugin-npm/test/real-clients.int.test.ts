import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientVersion, runClient, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { cleanClientEnv } from './support/clients.js';
import { FakeRegistry, packTarball } from './support/fake-registry.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A small real project: a scoped package, a package with a dependency (debug → ms) and one with a
 * bin and a dependency (which → isexe, bin `node-which`).
 */
const PROJECT = {
  name: 'cf-npm-client-test', version: '1.0.0', private: true,
  dependencies: { '@tsconfig/node20': '20.1.4', debug: '4.3.4', which: '2.0.2' },
};
const INSTALLED = ['@tsconfig/node20', 'debug', 'ms', 'which', 'isexe'];

interface Client {
  readonly name: 'npm' | 'pnpm' | 'yarn';
  readonly lockfile: string;
  install(registry: string, dir: string, env: NodeJS.ProcessEnv, frozen: boolean): [string, string[]];
}

const CLIENTS: Client[] = [
  {
    name: 'npm', lockfile: 'package-lock.json',
    install: (registry, dir, _env, frozen) => ['npm', [frozen ? 'ci' : 'install', '--registry', registry, '--cache', path.join(dir, '.client-cache'),
      '--no-audit', '--no-fund', '--update-notifier=false', '--omit-lockfile-registry-resolved=false']],
  },
  {
    name: 'pnpm', lockfile: 'pnpm-lock.yaml',
    install: (registry, dir, _env, frozen) => ['pnpm', ['install', `--registry=${registry}`, `--store-dir=${path.join(dir, '.client-store')}`,
      `--cache-dir=${path.join(dir, '.client-cache')}`, '--config.update-notifier=false', frozen ? '--frozen-lockfile' : '--no-frozen-lockfile']],
  },
  {
    name: 'yarn', lockfile: 'yarn.lock',
    install: (registry, dir, _env, frozen) => ['yarn', ['install', '--registry', registry, '--cache-folder', path.join(dir, '.client-cache'),
      '--non-interactive', '--no-progress', '--network-timeout', '60000', ...(frozen ? ['--frozen-lockfile'] : [])]],
  },
];

/**
 * npm, pnpm and yarn (classic) install a real project through the proxy from the real npm
 * registry (discovered with `npm config get registry`), then again from their lockfiles with the
 * proxy's upstream pointed at a closed port.
 */
describe('plugin-npm: real npm, pnpm and yarn through the proxy', function () {
  this.timeout(240_000);
  let root: string;
  let cf: RunningCacheForge;
  let port: number;
  const installed = new Set<string>();
  /** Seconds npm took to install the project without a lockfile, online (cold cache). */
  let npmOnlineSeconds: number | undefined;

  const startProxy = async (remote: Record<string, unknown>, dataDir?: string) => startCacheForge({
    server: { host: '127.0.0.1', port: port ?? 0, shutdownTimeout: '2s' },
    plugins: [PLUGIN],
    remotes: { npm: { type: 'npm', ...remote } },
  }, { dataDir });

  before(async function () {
    root = mkdtempSync(path.join(tmpdir(), 'cf-npm-clients-'));
    // No upstream in the config: the plugin discovers the machine's registry itself.
    cf = await startProxy({});
    port = Number(new URL(cf.url).port);
    const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: '/' }).trim();
    expect(cf.config.remotes.npm!.upstream.href).to.equal(new URL(registry.endsWith('/') ? registry : `${registry}/`).href);
  });
  after(async () => {
    await cf?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const projectDir = (client: string, phase: string) => path.join(root, `${client}-${phase}`);

  for (const client of CLIENTS) {
    it(`${client.name} installs a scoped package, dependencies and a bin through the proxy; its lockfile points at the proxy`, async function () {
      const version = clientVersion(client.name);
      if (!version) {
        console.log(`      ${client.name} is not installed (PATH): skipping; .ci/run installs it`);
        this.skip();
      }
      const dir = projectDir(client.name, 'online');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(PROJECT, null, 2));
      const env = cleanClientEnv(path.join(dir, '.home'));
      const registry = `${cf.url}/npm/`;
      const [command, args] = client.install(registry, dir, env, false);
      const started = Date.now();
      const run = await runClient(command, args, { cwd: dir, env });
      if (client.name === 'npm') npmOnlineSeconds = (Date.now() - started) / 1000;
      expect(run.code, run.output).to.equal(0);
      for (const pkg of INSTALLED) {
        expect(existsSync(path.join(dir, 'node_modules', pkg, 'package.json')) || existsSync(path.join(dir, 'node_modules/.pnpm/node_modules', pkg, 'package.json')), `${pkg}\n${run.output}`).to.equal(true);
      }
      const which = execFileSync(path.join(dir, 'node_modules/.bin/node-which'), ['node'], { encoding: 'utf8' }).trim();
      expect(which).to.match(/node$/);
      const lockfile = readFileSync(path.join(dir, client.lockfile), 'utf8');
      if (client.name === 'pnpm') {
        // pnpm's lockfile records integrity only; the registry comes from the command line.
        expect(lockfile).to.include('debug@4.3.4').and.to.include('integrity: sha512-');
      } else {
        const resolved = [...lockfile.matchAll(/"?resolved"?:?\s+"([^"]+)"/g)].map((m) => m[1]!);
        expect(resolved.length, lockfile).to.be.greaterThanOrEqual(INSTALLED.length);
        for (const url of resolved) expect(url.startsWith(`${registry}`), url).to.equal(true);
        expect(resolved.some((url) => url.startsWith(`${registry}@tsconfig/node20/-/node20-20.1.4.tgz`))).to.equal(true);
      }
      installed.add(client.name);
    });
  }

  it('npm ci installs again from the lockfile written through the proxy, with a fresh cache', async function () {
    if (!installed.has('npm')) this.skip();
    const dir = projectDir('npm', 'online');
    rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
    rmSync(path.join(dir, '.client-cache'), { recursive: true, force: true });
    const env = cleanClientEnv(path.join(dir, '.home'));
    const [command, args] = CLIENTS[0]!.install(`${cf.url}/npm/`, dir, env, true);
    const run = await runClient(command, args, { cwd: dir, env });
    expect(run.code, run.output).to.equal(0);
  });

  describe('with the upstream down (closed port)', () => {
    before(async function () {
      if (installed.size === 0) this.skip();
      const dataDir = cf.dataDir;
      await cf.stop();
      // Documents are revalidated on every request (TTL 0), so each one is served STALE. The
      // default retries apply: the upstream must be marked down, not retried per document.
      cf = await startProxy({ upstream: `http://127.0.0.1:${await closedPort()}/`, ttl: { mutable: 0 } }, dataDir);
    });

    for (const client of CLIENTS) {
      it(`${client.name} installs again from its lockfile, with a fresh cache`, async function () {
        if (!installed.has(client.name)) this.skip();
        const dir = projectDir(client.name, 'offline');
        cpSync(projectDir(client.name, 'online'), dir, { recursive: true, filter: (src) => !/node_modules|\.client-|\.home/.test(path.basename(src)) });
        const env = cleanClientEnv(path.join(dir, '.home'));
        const [command, args] = client.install(`${cf.url}/npm/`, dir, env, true);
        const run = await runClient(command, args, { cwd: dir, env });
        expect(run.code, run.output).to.equal(0);
        for (const pkg of ['debug', 'which']) {
          expect(existsSync(path.join(dir, 'node_modules', pkg, 'package.json')), `${pkg}\n${run.output}`).to.equal(true);
        }
      });
    }

    it('npm installs the project without a lockfile: every document served STALE', async function () {
      if (!installed.has('npm')) this.skip();
      const dir = projectDir('npm', 'offline-nolock');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(PROJECT, null, 2));
      const env = cleanClientEnv(path.join(dir, '.home'));
      const [command, args] = CLIENTS[0]!.install(`${cf.url}/npm/`, dir, env, false);
      const started = Date.now();
      const run = await runClient(command, args, { cwd: dir, env });
      const offlineSeconds = (Date.now() - started) / 1000;
      expect(run.code, run.output).to.equal(0);
      expect(existsSync(path.join(dir, 'node_modules/@tsconfig/node20/package.json'))).to.equal(true);
      const res = await fetch(`${cf.url}/npm/debug`, { headers: { accept: 'application/json' } });
      expect(res.headers.get('x-cache-status')).to.equal('STALE');
      // The closed port is marked down. How many tries that takes depends on how many documents
      // npm asks at once (all in flight fail together); offline-install.int.test.ts bounds it
      // with 40 packages whose documents npm must ask one after another.
      const metrics = await (await fetch(`${cf.url}/-/metrics`)).text();
      const sum = (re: RegExp) => [...metrics.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
      const failures = sum(/^cacheforge_upstream_errors_total\{remote="npm"[^}]*\} (\d+)/gm);
      const stale = sum(/^cacheforge_requests_total\{remote="npm",cache="STALE"[^}]*\} (\d+)/gm);
      console.log(`      npm install without a lockfile: ${npmOnlineSeconds?.toFixed(1)} s online (cold), ${offlineSeconds.toFixed(1)} s with the upstream down; ${failures} upstream failures for ${stale} STALE answers`);
      expect(stale).to.be.greaterThan(5);
      expect(metrics).to.match(/^cacheforge_upstream_up\{remote="npm",host="127\.0\.0\.1:\d+"\} 0$/m);
    });
  });
});

describe('plugin-npm: real npm against a local registry that serves a corrupted tarball', function () {
  this.timeout(120_000);

  it('npm install fails (nothing installed, nothing stored), then succeeds once the upstream serves the true bytes', async function () {
    if (!clientVersion('npm')) {
      console.log('      npm is not installed (PATH): skipping');
      this.skip();
    }
    const registry = await new FakeRegistry().start();
    const root = mkdtempSync(path.join(tmpdir(), 'cf-npm-corrupt-'));
    const cf = await startCacheForge({ plugins: [PLUGIN], remotes: { npm: { type: 'npm', upstream: registry.url, client: { retries: 0 } } } });
    try {
      const tarball = packTarball('tampered-lib', '1.0.0');
      registry.publish('tampered-lib', { version: '1.0.0', tarball });
      registry.corrupt('tampered-lib-1.0.0.tgz');
      const install = async (phase: string) => {
        const dir = path.join(root, phase);
        mkdirSync(dir);
        writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', dependencies: { 'tampered-lib': '1.0.0' } }));
        const env = cleanClientEnv(path.join(dir, '.home'));
        const run = await runClient('npm', ['install', '--registry', `${cf.url}/npm/`, '--cache', path.join(dir, '.client-cache'), '--fetch-retries', '0', '--no-audit', '--no-fund'], { cwd: dir, env });
        return { run, installed: existsSync(path.join(dir, 'node_modules/tampered-lib/package.json')) };
      };
      const bad = await install('corrupt');
      expect(bad.run.code, bad.run.output).to.not.equal(0);
      expect(bad.run.output).to.match(/502 Bad Gateway/);
      expect(bad.installed).to.equal(false);
      registry.corrupt('tampered-lib-1.0.0.tgz', false);
      const good = await install('fixed');
      expect(good.run.code, good.run.output).to.equal(0);
      expect(good.installed).to.equal(true);
    } finally {
      await cf.cleanup();
      await registry.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
