import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { FakeUpstream, generated } from '../../src/testing/fake-upstream.js';
import { startCacheForge } from '../../src/testing/harness.js';
import { hashGet, request } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';

/** Resolves once a download from the upstream is being written to storage (its temp file exists). */
async function downloading(dataDir: string): Promise<void> {
  const tmp = path.join(dataDir, 'blobs', 'tmp');
  await waitFor('the download to be under way', async () => (await readdir(tmp).catch(() => [])).length > 0);
}

describe('server: shutdown', function () {
  this.timeout(30_000);

  it('aborts a download that outlives shutdownTimeout: the client sees an error, nothing partial stays', async () => {
    const upstream = await new FakeUpstream().start();
    upstream.set('/slow.iso', { body: generated(8 * 1024 * 1024, 3), rate: 1024 * 1024 });
    const cf = await startCacheForge({ server: { host: '127.0.0.1', port: 0, shutdownTimeout: '300ms' }, remotes: { files: { type: 'generic', upstream: upstream.url, client: { verifyBeforeSend: 0 } } } });
    try {
      const download = hashGet(`${cf.url}/files/slow.iso`);
      await downloading(cf.dataDir);
      const stopping = cf.stop();
      const refused = await request(`${cf.url}/files/slow.iso`).then((r) => r.status, () => 'connection refused');
      expect(refused).to.equal('connection refused');
      await stopping;
      const result = await download;
      expect(result.complete).to.equal(false);
      expect(result.size).to.be.below(8 * 1024 * 1024);
      expect(await readdir(path.join(cf.dataDir, 'blobs', 'tmp'))).to.deep.equal([]);
      expect(await readdir(path.join(cf.dataDir, 'blobs', 'sha256'))).to.deep.equal([]);
    } finally {
      await cf.cleanup();
      await upstream.stop();
    }
  });

  it('lets a download finish within shutdownTimeout and keeps it', async () => {
    const upstream = await new FakeUpstream().start();
    upstream.set('/short.iso', { body: generated(2 * 1024 * 1024, 4), rate: 2 * 1024 * 1024 });
    const cf = await startCacheForge({ server: { host: '127.0.0.1', port: 0, shutdownTimeout: '10s' }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    const download = hashGet(`${cf.url}/files/short.iso`);
    await downloading(cf.dataDir);
    await cf.stop();
    const result = await download;
    expect(result.complete).to.equal(true);
    expect(result.size).to.equal(2 * 1024 * 1024);
    const again = await startCacheForge({ remotes: { files: { type: 'generic', upstream: 'http://127.0.0.1:9/' } } }, { dataDir: cf.dataDir });
    try {
      const hit = await request(`${again.url}/files/short.iso`);
      expect(hit.headers['x-cache-status']).to.equal('HIT');
      expect(hit.body.length).to.equal(2 * 1024 * 1024);
    } finally {
      await again.cleanup();
      await upstream.stop();
    }
  });
});
