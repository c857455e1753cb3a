import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, sha256 } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

/** Every committed blob under a Cache Forge data folder. */
async function blobs(cf: RunningCacheForge): Promise<string[]> {
  const root = path.join(cf.dataDir, 'blobs', 'sha256');
  const out: string[] = [];
  for (const shard of await readdir(root)) out.push(...await readdir(path.join(root, shard)));
  return out;
}

async function temporaries(cf: RunningCacheForge): Promise<string[]> {
  return readdir(path.join(cf.dataDir, 'blobs', 'tmp'));
}

describe('pipeline: upstream faults', function () {
  this.timeout(30_000);
  let upstream: FakeUpstream;
  let other: FakeUpstream;
  let cf: RunningCacheForge;
  const body = randomBytes(2 * 1024 * 1024);
  const clock = new ManualClock();

  before(async () => {
    upstream = await new FakeUpstream().start();
    other = await new FakeUpstream().start();
    const otherHost = `localhost:${new URL(other.url).port}`;
    cf = await startCacheForge({
      remotes: {
        files: {
          type: 'generic', upstream: upstream.url, ttl: { negative: '1s' },
          // Streamed as they arrive: these tests are about bodies that break mid-way.
          client: { responseTimeout: '500ms', idleTimeout: '500ms', retries: 2, verifyBeforeSend: 0 },
        },
        nohost: { type: 'generic', upstream: 'http://127.0.0.1:1/', client: { retries: 0, connectTimeout: '1s' } },
        redirecting: { type: 'generic', upstream: upstream.url, allowedHosts: [otherHost] },
      },
    }, { clock });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); await other.stop(); });

  it('a body cut mid-way reaches the client as an error, is not committed, and the next request fetches it whole', async () => {
    upstream.set('/cut.tar.gz', { body, cutAfter: 700_000 });
    const broken = await request(`${cf.url}/files/cut.tar.gz`);
    expect(broken.status).to.equal(200); // headers were already sent...
    expect(broken.complete).to.equal(false); // ...but the download is visibly truncated
    expect(broken.body.length).to.be.below(body.length);
    expect(await blobs(cf)).to.not.include(sha256(body));
    expect(await temporaries(cf)).to.deep.equal([]);

    upstream.set('/cut.tar.gz', { body });
    const whole = await request(`${cf.url}/files/cut.tar.gz`);
    expect(whole.complete).to.equal(true);
    expect(whole.headers['x-cache-status']).to.equal('MISS');
    expect(sha256(whole.body)).to.equal(sha256(body));
    expect(upstream.count('/cut.tar.gz')).to.equal(2);
    // The last byte goes out once verified, the rename comes just after: the next test counts temporaries.
    await waitFor('the whole download to be committed', async () => (await temporaries(cf)).length === 0);
  });

  it('a body shorter than its Content-Length is never committed', async () => {
    const short = randomBytes(100_000);
    upstream.set('/liar.tar.gz', { body: short, lieLengthBy: 1000 });
    const res = await request(`${cf.url}/files/liar.tar.gz`);
    expect(res.complete).to.equal(false);
    expect(await blobs(cf)).to.not.include(sha256(short));
    expect(await temporaries(cf)).to.deep.equal([]);
    const again = await request(`${cf.url}/files/liar.tar.gz`);
    expect(again.complete).to.equal(false);
    expect(upstream.count('/liar.tar.gz')).to.equal(2);
  });

  it('an upstream that stalls mid-body fails after the idle timeout and stores nothing', async () => {
    const stalled = randomBytes(300_000);
    upstream.set('/stall.tar.gz', { body: stalled, stallAfter: 100_000 });
    const res = await request(`${cf.url}/files/stall.tar.gz`);
    expect(res.complete).to.equal(false);
    expect(await blobs(cf)).to.not.include(sha256(stalled));
    expect(await temporaries(cf)).to.deep.equal([]);
  });

  it('answers 504 with CF_ERR_UPSTREAM_TIMEOUT when the upstream does not answer in time', async () => {
    upstream.set('/slowheaders.tar.gz', { body, delayHeaders: 2000 });
    const res = await request(`${cf.url}/files/slowheaders.tar.gz`);
    expect(res.status).to.equal(504);
    expect(JSON.parse(res.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_TIMEOUT');
  });

  it('retries 503 before the first byte and then serves', async () => {
    upstream.set('/flaky.tar.gz', { body, failTimes: 2 });
    const res = await request(`${cf.url}/files/flaky.tar.gz`);
    expect(res.status).to.equal(200);
    expect(sha256(res.body)).to.equal(sha256(body));
    expect(upstream.count('/flaky.tar.gz')).to.equal(3);
  });

  it('answers 502 with CF_ERR_UPSTREAM_UNAVAILABLE when the upstream keeps failing with 5xx', async () => {
    upstream.set('/down.tar.gz', { status: 500 });
    const res = await request(`${cf.url}/files/down.tar.gz`);
    expect(res.status).to.equal(502);
    expect(res.headers['x-cache-status']).to.equal('MISS');
    const error = JSON.parse(res.body.toString()).errors[0];
    expect(error.code).to.equal('CF_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.message).to.contain('500');
    expect(upstream.count('/down.tar.gz')).to.equal(3); // first try + 2 retries
  });

  it('answers 502 when the upstream cannot be reached at all', async () => {
    const res = await request(`${cf.url}/nohost/x.tar.gz`);
    expect(res.status).to.equal(502);
    expect(JSON.parse(res.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('passes 429 through with its Retry-After', async () => {
    upstream.set('/limited.tar.gz', { status: 429, headers: { 'retry-after': '120' } });
    const res = await request(`${cf.url}/files/limited.tar.gz`);
    expect(res.status).to.equal(429);
    expect(res.headers['retry-after']).to.equal('120');
    expect(JSON.parse(res.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_RATE_LIMITED');
    expect(upstream.count('/limited.tar.gz')).to.equal(1); // 429 is not retried
  });

  it('remembers an upstream 404 for ttl.negative, then asks again', async () => {
    const first = await request(`${cf.url}/files/missing.tar.gz`);
    expect(first.status).to.equal(404);
    expect(first.headers['x-cache-status']).to.equal('MISS');
    expect(JSON.parse(first.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_NOT_FOUND');
    const second = await request(`${cf.url}/files/missing.tar.gz`);
    expect(second.status).to.equal(404);
    expect(second.headers['x-cache-status']).to.equal('HIT');
    expect(upstream.count('/missing.tar.gz')).to.equal(1);
    clock.advance(1100);
    upstream.set('/missing.tar.gz', { body });
    const third = await request(`${cf.url}/files/missing.tar.gz`);
    expect(third.status).to.equal(200);
    expect(upstream.count('/missing.tar.gz')).to.equal(2);
  });

  it('follows redirects to allowed hosts only', async () => {
    const port = new URL(other.url).port;
    other.set('/moved.tar.gz', { body });
    upstream.set('/go-allowed.tar.gz', { redirectTo: `http://localhost:${port}/moved.tar.gz` });
    const ok = await request(`${cf.url}/redirecting/go-allowed.tar.gz`);
    expect(ok.status).to.equal(200);
    expect(sha256(ok.body)).to.equal(sha256(body));

    // The `files` remote allows only its own origin: `localhost:<port>` is another one to it.
    upstream.set('/go-elsewhere.tar.gz', { redirectTo: `http://localhost:${port}/moved.tar.gz` });
    const refused = await request(`${cf.url}/files/go-elsewhere.tar.gz`);
    expect(refused.status).to.equal(502);
    expect(JSON.parse(refused.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    expect(other.count('/moved.tar.gz')).to.equal(1);
  });
});
