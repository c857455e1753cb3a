import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { FakeUpstream, generated, generatedSha256 } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { hashGet } from '../../src/testing/http.js';
import { expectCompleteBodies } from '../support/http.js';
import { waitFor } from '../../src/testing/wait.js';
import { existsSync } from 'node:fs';

describe('pipeline: concurrent misses of one key', function () {
  this.timeout(120_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const MiB = 1024 * 1024;
  const big = generated(50 * MiB, 7);
  const slow = generated(8 * MiB, 8);
  let bigSha: string;
  let slowSha: string;

  before(async () => {
    bigSha = generatedSha256(big);
    slowSha = generatedSha256(slow);
    upstream = await new FakeUpstream().start();
    upstream.set('/big.tar.gz', { body: big });
    // 4 MiB/s: the whole body takes ~2 s to send, long enough to see who got bytes when.
    upstream.set('/slow.tar.gz', { body: slow, rate: 4 * MiB });
    // Streamed as they arrive (a small miss would be held until verified).
    cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: upstream.url, client: { verifyBeforeSend: 0 } } } });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('32 clients of an uncached 50 MiB file cause exactly one upstream request and get identical bodies', async () => {
    const results = await Promise.all(Array.from({ length: 32 }, () => hashGet(`${cf.url}/files/big.tar.gz`)));
    expect(upstream.count('/big.tar.gz')).to.equal(1);
    expectCompleteBodies(results, { size: big.size, sha256: bigSha });
    const statuses = results.map((r) => r.headers['x-cache-status']);
    expect(statuses).to.include('MISS');
    // The object is now stored once, under its digest, with no temporary left behind.
    const blob = path.join(cf.dataDir, 'blobs', 'sha256', bigSha.slice(0, 2), bigSha);
    await waitFor('the blob to be committed', () => existsSync(blob));
    expect(await readdir(path.join(cf.dataDir, 'blobs', 'tmp'))).to.deep.equal([]);
    const again = await hashGet(`${cf.url}/files/big.tar.gz`);
    expect(again.headers['x-cache-status']).to.equal('HIT');
    expect(again.sha256).to.equal(bigSha);
    expect(upstream.count('/big.tar.gz')).to.equal(1);
  });

  it('with a slow upstream, every one of 32 clients receives bytes before the upstream has finished sending', async () => {
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 32 }, () => hashGet(`${cf.url}/files/slow.tar.gz`)));
    const upstreamDone = Math.min(...results.map((r) => r.endAt));
    expect(upstream.count('/slow.tar.gz')).to.equal(1);
    for (const r of results) {
      expect(r.sha256).to.equal(slowSha);
      expect(r.firstByteAt, 'every client got a first byte').to.be.a('number');
      // Waiters stream: each got its first byte while the fill was still far from done (the whole
      // body takes ~2 s at 4 MiB/s); none waited for the fill to complete, as nginx's lock does.
      expect(r.firstByteAt!).to.be.below(upstreamDone);
      expect(r.firstByteAt! - started).to.be.below((upstreamDone - started) / 2);
    }
  });
});
