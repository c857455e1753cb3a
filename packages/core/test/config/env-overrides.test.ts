import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/plugin/load-config.js';
import { envName, overridablePaths } from '../../src/config/env-overrides.js';
import { coreSchema } from '../../src/config/schema.js';

describe('config: CACHEFORGE_* environment overrides', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-env-'));
    file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({ server: { port: 7000, host: '127.0.0.1' }, log: { level: 'warn' }, plugins: [], remotes: {} }));
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('names every scalar setting by one rule, and no list or record', () => {
    const names = overridablePaths(coreSchema).map(envName);
    expect(names).to.include.members(['CACHEFORGE_SERVER_PORT', 'CACHEFORGE_SERVER_PUBLIC_URL', 'CACHEFORGE_LOG_LEVEL',
      'CACHEFORGE_STORAGE_FILESYSTEM_PATH', 'CACHEFORGE_HOT_MAX_OBJECT_BYTES', 'CACHEFORGE_UPSTREAM_IDLE_TIMEOUT']);
    expect(names.some((n) => n.startsWith('CACHEFORGE_REMOTES') || n.startsWith('CACHEFORGE_PLUGINS'))).to.equal(false);
  });

  it('overrides the file: numbers, booleans, durations and strings', async () => {
    const { config } = await loadConfig({
      configPath: file,
      env: { CACHEFORGE_SERVER_PORT: '9100', CACHEFORGE_SERVER_TRUST_PROXY: 'true', CACHEFORGE_LOG_LEVEL: 'debug', CACHEFORGE_UPSTREAM_IDLE_TIMEOUT: '2m', CACHEFORGE_HOT_MAX_BYTES: '1MiB' },
    });
    expect(config.server.port).to.equal(9100);
    expect(config.server.host).to.equal('127.0.0.1'); // untouched keys keep the file's value
    expect(config.server.trustProxy).to.equal(true);
    expect(config.log.level).to.equal('debug');
    expect(config.upstream.idleTimeout).to.equal(120_000);
    expect(config.hot.maxBytes).to.equal(1024 * 1024);
  });

  it('gives way to --port', async () => {
    const { config } = await loadConfig({ configPath: file, port: 9200, env: { CACHEFORGE_SERVER_PORT: '9100' } });
    expect(config.server.port).to.equal(9200);
  });

  it('reports a prefixed variable that names no setting, and a bad value by its key', async () => {
    const err = await loadConfig({ configPath: file, env: { CACHEFORGE_SERVER_PROT: '1', CACHEFORGE_LOG_LEVEL: 'loud' } })
      .then(() => undefined, (e: { code?: string; message: string }) => e);
    expect(err?.code).to.equal('CF_ERR_CONFIG_INVALID');
    expect(err?.message).to.contain('environment CACHEFORGE_SERVER_PROT: names no setting');
    expect(err?.message).to.match(/log\.level: .*loud|log\.level: .*expected one of/);
  });
});
