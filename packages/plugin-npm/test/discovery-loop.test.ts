import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@cacheforge/core';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PORT = 18123;

function hasNpm(): boolean {
  try { execFileSync('npm', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

describe('plugin-npm: default-upstream discovery never picks this instance', function () {
  this.timeout(60_000);
  let home: string;
  before(async function () {
    if (!hasNpm()) { console.log('      npm is not installed: skipping'); this.skip(); }
    home = await mkdtemp(path.join(tmpdir(), 'cf-npm-loop-'));
  });
  after(async () => { if (home) await rm(home, { recursive: true, force: true }); });

  const run = async (npmrc: string, extra: NodeJS.ProcessEnv = {}) => {
    await writeFile(path.join(home, '.npmrc'), npmrc);
    const file = path.join(home, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({
      server: { host: '0.0.0.0', port: PORT }, plugins: [PLUGIN],
      storage: { filesystem: { path: path.join(home, 'blobs') } }, metadata: { sqlite: { filename: path.join(home, 'db') } },
    }));
    const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
    const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
    const log = { info: at('info'), warn: at('warn'), debug() {}, trace() {}, error() {}, fatal() {}, child() { return log; }, level: 'info' } as never;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: home, npm_config_userconfig: path.join(home, '.npmrc'), npm_config_globalconfig: path.join(home, 'global.npmrc'),
      npm_config_cache: path.join(home, 'npm-cache'), ...extra,
    };
    const { config } = await loadConfig({ configPath: file, cwd: home, env, log });
    return { upstream: config.remotes.npm!.upstream, lines };
  };

  it('skips an ~/.npmrc registry that is this Cache Forge and says which registry it used instead', async () => {
    const { upstream, lines } = await run(`registry=http://127.0.0.1:${PORT}/npm/\n`);
    expect(upstream.port).to.not.equal(String(PORT));
    expect(upstream.protocol).to.equal('https:');
    const warned = lines.find((l) => l.level === 'warn');
    expect(warned, JSON.stringify(lines)).to.not.equal(undefined);
    expect(warned!.msg).to.contain(`127.0.0.1:${PORT}`).and.to.contain(upstream.href).and.to.contain('npm config get registry');
  });

  it('skips npm_config_registry pointing here for the npmrc registry, and keeps a registry elsewhere', async () => {
    const { upstream, lines } = await run('registry=http://127.0.0.1:4873/\n', { npm_config_registry: `http://localhost:${PORT}/npm/` });
    expect(upstream.href).to.equal('http://127.0.0.1:4873/');
    expect(lines.find((l) => l.level === 'warn')!.msg).to.contain('npm_config_registry');
    const plain = await run('registry=http://127.0.0.1:4873/\n');
    expect(plain.upstream.href).to.equal('http://127.0.0.1:4873/');
    expect(plain.lines.filter((l) => l.level === 'warn')).to.deep.equal([]);
  });
});
