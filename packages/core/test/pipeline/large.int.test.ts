import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream, generated, generatedSha256 } from '../../src/testing/fake-upstream.js';
import { hashGet } from '../../src/testing/http.js';
import { spawnCacheForge, type CliProcess } from '../../src/testing/cli-process.js';

describe('pipeline: a 2 GiB download streams with bounded memory', function () {
  this.timeout(240_000);
  const GiB = 1024 ** 3;
  const body = generated(2 * GiB, 42);
  let upstream: FakeUpstream;
  let cf: CliProcess;
  let dir: string;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/disk.img', { body });
    dir = await mkdtemp(path.join(tmpdir(), 'cf-large-'));
    const config = path.join(dir, 'cacheforge.config.json');
    await writeFile(config, JSON.stringify({
      server: { host: '127.0.0.1' }, log: { level: 'info', requests: false },
      storage: { filesystem: { path: path.join(dir, 'blobs') } }, metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
      plugins: ['@cacheforge/plugin-generic'],
      remotes: { files: { type: 'generic', upstream: upstream.url } },
    }));
    cf = await spawnCacheForge(config, [], { built: true });
  });
  after(async () => { await cf?.stop(); await upstream.stop(); await rm(dir, { recursive: true, force: true }); });

  it('serves 2 GiB on a miss and on a hit with the proxy staying under 200 MB RSS', async () => {
    const expected = generatedSha256(body);
    let peak = cf.rss();
    const sampler = setInterval(() => { peak = Math.max(peak, cf.rss()); }, 100);
    try {
      const miss = await hashGet(`${cf.url}/files/disk.img`);
      expect(miss.headers['x-cache-status']).to.equal('MISS');
      expect(miss.size).to.equal(body.size);
      expect(miss.sha256).to.equal(expected);
      const hit = await hashGet(`${cf.url}/files/disk.img`);
      expect(hit.headers['x-cache-status']).to.equal('HIT');
      expect(hit.sha256).to.equal(expected);
    } finally {
      clearInterval(sampler);
    }
    expect(upstream.count('/disk.img')).to.equal(1);
    expect(peak, `peak RSS ${Math.round(peak / 1e6)} MB`).to.be.below(200e6);
    console.log(`      peak RSS of cacheforge during 2 x 2 GiB: ${Math.round(peak / 1e6)} MB`);
  });
});
