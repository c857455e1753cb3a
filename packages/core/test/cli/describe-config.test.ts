import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/plugin/load-config.js';
import { describeConfig } from '../../src/cli/describe-config.js';

/** Every value at a key path of a JSON tree, as `path: value`. */
function leaves(value: unknown, at = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of leaves(v, at ? `${at}.${k}` : k)) out.set(p, leaf);
  } else {
    out.set(at, value);
  }
  return out;
}

describe('config check: how the effective config is shown', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-describe-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('prints every duration the same way (10m, 15s), whatever its key is called, and sizes as bytes', async () => {
    const file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({
      plugins: ['@cacheforge/plugin-generic'],
      storage: { s3: { endPoint: 'minio.lan', bucket: 'blobs', accessKey: 'a', secretKey: 'b', redirectExpiry: '10m' } },
      cache: { memory: {}, lock: { ttl: '20s', wait: '3m' } },
      remotes: { files: { type: 'generic', upstream: 'http://127.0.0.1:9/', ttl: { mutable: '5m', negative: '30s' }, client: { responseTimeout: '10s' } } },
    }));
    const { config, plugins } = await loadConfig({ configPath: file, env: {} });
    const shown = leaves(JSON.parse(describeConfig(config, plugins)));
    expect(Object.fromEntries([...shown].filter(([p]) => /lock|redirectExpiry|flushInterval|shutdownTimeout|ttl|Timeout/.test(p)))).to.deep.equal({
      'server.headersTimeout': '20s',
      'server.shutdownTimeout': '30s',
      'storage.s3.redirectExpiry': '10m',
      'metadata.flushInterval': '5s',
      'cache.lock.ttl': '20s',
      'cache.lock.wait': '3m',
      'upstream.connectTimeout': '10s',
      'upstream.responseTimeout': '15s',
      'upstream.firstByteTimeout': '30s',
      'upstream.idleTimeout': '1m',
      'remotes.files.ttl.mutable': '5m',
      'remotes.files.ttl.negative': '30s',
      'remotes.files.client.connectTimeout': '10s',
      'remotes.files.client.responseTimeout': '10s',
      'remotes.files.client.firstByteTimeout': '30s',
      'remotes.files.client.idleTimeout': '1m',
    });
    // Every other number is not a duration: no duration-looking value left as milliseconds.
    expect(shown.get('storage.s3.partSize')).to.equal(16 * 1024 * 1024);
    expect(shown.get('upstream.retries')).to.equal(2);
    expect(shown.get('server.port')).to.equal(8080);
  });
});
