import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin from '../src/index.js';
import { checkContract, describeConfig } from '@cacheforge/core/testing';
import { loadConfig } from '@cacheforge/core';
import { expectedDigest } from '../src/integrity.js';
import { rewriteTarballUrls } from '../src/tarball-urls.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('plugin-npm: contract, defaults and configuration', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-npm-defaults-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const configFile = async (content: Record<string, unknown>) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify({ plugins: [PLUGIN], ...content }));
    return file;
  };

  it('satisfies the plugin contract of this core', () => {
    expect(() => checkContract(plugin, '@cacheforge/plugin-npm')).to.not.throw();
    expect(plugin.name).to.equal('npm');
  });

  it('declares a default remote `npm` whose upstream is the registry the machine\'s npm names', async function () {
    let registry: string;
    try {
      registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', env: { ...process.env, npm_config_registry: '' } }).trim();
    } catch {
      console.log('      npm is not installed: skipping');
      this.skip();
    }
    const infos: unknown[] = [];
    const log = { info: (...args: unknown[]) => infos.push(args), warn() {}, debug() {}, trace() {}, error() {}, fatal() {}, child() { return log; } } as never;
    const env = { ...process.env, npm_config_registry: '' };
    const { config } = await loadConfig({ configPath: await configFile({}), env, log });
    expect(Object.keys(config.remotes)).to.deep.equal(['npm']);
    expect(config.remotes.npm!.upstream.href).to.equal(new URL(registry.endsWith('/') ? registry : `${registry}/`).href);
    expect(JSON.stringify(infos)).to.include('npm upstream discovered');
  });

  it('takes npm_config_registry without running npm, and an explicit upstream over both', async () => {
    const env = { ...process.env, npm_config_registry: 'http://127.0.0.1:4873/' };
    const implicit = await loadConfig({ configPath: await configFile({ remotes: { js: { type: 'npm' } } }), env });
    expect(implicit.config.remotes.js!.upstream.href).to.equal('http://127.0.0.1:4873/');
    const explicit = await loadConfig({ configPath: await configFile({ remotes: { js: { type: 'npm', upstream: 'http://127.0.0.1:1/reg' } } }), env });
    expect(explicit.config.remotes.js!.upstream.href).to.equal('http://127.0.0.1:1/reg/');
  });

  it('masks the upstream token in `cacheforge config check` output, literal or from the environment', async () => {
    for (const token of ['npm_literalTokenValue', '${CF_NPM_TOKEN_TEST}']) { // eslint-disable-line no-template-curly-in-string
      const file = await configFile({ remotes: { js: { type: 'npm', upstream: 'http://127.0.0.1:1/', token } } });
      const { config, plugins } = await loadConfig({ configPath: file, env: { CF_NPM_TOKEN_TEST: 'npm_envTokenValue' } });
      const shown = describeConfig(config, plugins);
      expect(shown).to.not.include('TokenValue');
      expect(shown).to.include('"token": "***"');
    }
  });

  it('reports an invalid option by file and key', async () => {
    const file = await configFile({ remotes: { js: { type: 'npm', upstream: 'http://127.0.0.1:1/', token: '' } } });
    let message = '';
    try { await loadConfig({ configPath: file }); } catch (err) { message = (err as Error).message; }
    expect(message).to.include(file).and.to.include('remotes.js.token');
  });

  it('prefers sha512 from integrity, and falls back to the sha1 shasum', () => {
    const sha512 = Buffer.alloc(64, 7).toString('base64');
    expect(expectedDigest({ integrity: `sha1-${Buffer.alloc(20, 1).toString('base64')} sha512-${sha512}` }))
      .to.deep.equal({ algorithm: 'sha512', hex: Buffer.alloc(64, 7).toString('hex') });
    expect(expectedDigest({ shasum: 'A'.repeat(40) })).to.deep.equal({ algorithm: 'sha1', hex: 'a'.repeat(40) });
    expect(expectedDigest({})).to.equal(undefined);
  });

  it('rewrites tarball members only, by splicing the raw JSON', () => {
    const doc = '{"readme":"say \\"tarball\\":\\"x\\"","versions":{"1.0.0":{"dist":{"tarball":"https:\\/\\/up.example\\/@a\\/b\\/-\\/b-1.0.0.tgz","shasum":"x"}}}}';
    const out = JSON.parse(rewriteTarballUrls(doc, '@a/b', 'http://cf.local/npm/')) as { readme: string; versions: Record<string, { dist: { tarball: string } }> };
    expect(out.versions['1.0.0']!.dist.tarball).to.equal('http://cf.local/npm/@a/b/-/b-1.0.0.tgz');
    expect(out.readme).to.equal('say "tarball":"x"');
  });
});
