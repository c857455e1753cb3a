import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { FakeUpstream, generated } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { LogCapture, type LogLine } from '../../src/testing/log-capture.js';
import { request, sha256, type Fetched } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';

/** The samples of one metric, as `{labels, value}`, from Prometheus' text format. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

describe('statistics: one access-log line and one metrics count per response, with its real body bytes', function () {
  this.timeout(30_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const logs = new LogCapture();
  const small = randomBytes(1_000);
  const big = randomBytes(512 * 1024);
  const HUGE = 32 * 1024 * 1024;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/small.bin', { body: small });
    upstream.set('/big.bin', { body: big });
    upstream.set('/huge.bin', { body: generated(HUGE, 7) });
    cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: upstream.url } } }, { logLevel: 'info', logTo: logs });
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('counts every path (memory hit, sendFile hit, fill, 304, HEAD, 206, 404) as the client received it', async () => {
    const made: { what: string; res: Fetched; path: string }[] = [];
    const lineOf = (line: LogLine) => line.remote === 'files';
    const make = async (what: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}) => {
      const res = await request(`${cf.url}/files${path}`, options);
      expect(res.complete, what).to.equal(true);
      made.push({ what, res, path: `/files${path}` });
      // Each response's line is written when it closes: wait for it before the next one, so lines and requests pair up in order.
      await waitFor(`the access-log line of ${what}`, () => logs.requests.filter(lineOf).length >= made.length);
    };

    // Until a fill is recorded a second request joins it (a stream): wait for it to be stored, so the hits take the stored paths.
    const filled = () => waitFor('the fill to be recorded', async () => {
      const text = (await request(`${cf.url}/-/metrics`)).body.toString('utf8');
      return samples(text, 'cacheforge_inflight_fetches').find((s) => s.labels.remote === 'files')?.value === 0;
    });
    await make('small miss (fill)', '/small.bin');
    await filled();
    await make('small hit from memory', '/small.bin');
    await make('large miss (fill)', '/big.bin');
    await filled();
    await make('large hit via sendFile', '/big.bin');
    await make('304', '/small.bin', { headers: { 'if-none-match': `"${sha256(small)}"` } });
    await make('HEAD hit', '/small.bin', { method: 'HEAD' });
    await make('HEAD large hit', '/big.bin', { method: 'HEAD' });
    await make('range 206 of a large hit', '/big.bin', { headers: { range: 'bytes=100-1099' } });
    await make('range 206 of a small hit', '/small.bin', { headers: { range: 'bytes=0-9' } });
    await make('404', '/missing.bin');
    await make('404 remembered', '/missing.bin');
    await make('416', '/small.bin', { headers: { range: 'bytes=5000-' } });

    expect(made.map((m) => m.res.status)).to.deep.equal([200, 200, 200, 200, 304, 200, 200, 206, 206, 404, 404, 416]);
    expect(made[1]!.res.headers['x-cache-status']).to.equal('HIT');
    expect(made[3]!.res.headers['x-cache-status']).to.equal('HIT');
    expect(made[3]!.res.body.length).to.equal(big.length);

    for (const m of made) {
      const names = m.res.rawHeaders.filter((_, i) => i % 2 === 0 && m.res.rawHeaders[i]!.toLowerCase() === 'x-cache-status');
      expect({ what: m.what, names }).to.deep.equal({ what: m.what, names: ['X-Cache-Status'] });
    }

    const scrapes = logs.requests.filter((l) => l.path === '/-/metrics').length;
    const scrape = await request(`${cf.url}/-/metrics`);
    await waitFor('the last metrics scrape logged', () => logs.requests.filter((l) => l.path === '/-/metrics').length > scrapes);
    const lines = logs.requests.filter(lineOf);
    expect(lines.length, 'one line per response').to.equal(made.length);
    made.forEach((m, i) => {
      const line = lines[i]!;
      expect({ what: m.what, path: line.path, status: line.status, bytes: line.bytes, cache: line.cache, complete: line.complete })
        .to.deep.equal({ what: m.what, path: m.path, status: m.res.status, bytes: m.res.body.length, cache: m.res.headers['x-cache-status'] ?? '-', complete: true });
    });

    const text = scrape.body.toString('utf8');
    const counted = new Map<string, number>();
    for (const s of samples(text, 'cacheforge_requests_total')) {
      if (s.labels.remote !== 'files') continue;
      counted.set(`${s.labels.cache} ${s.labels.status}`, s.value);
    }
    const expected = new Map<string, number>();
    for (const m of made) {
      const key = `${m.res.headers['x-cache-status'] ?? '-'} ${m.res.status}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(counted)).to.deep.equal(Object.fromEntries(expected));
    const served = samples(text, 'cacheforge_served_bytes_total').find((s) => s.labels.remote === 'files');
    expect(served?.value).to.equal(made.reduce((sum, m) => sum + m.res.body.length, 0));
  });

  it('counts a stored hit the client walks away from once, as incomplete, with the bytes that left', async () => {
    const full = await request(`${cf.url}/files/huge.bin`);
    expect(full.body.length).to.equal(HUGE);
    await waitFor('the fill to be recorded', async () => {
      const text = (await request(`${cf.url}/-/metrics`)).body.toString('utf8');
      return samples(text, 'cacheforge_inflight_fetches').find((s) => s.labels.remote === 'files')?.value === 0;
    });
    const before = logs.requests.filter((l) => l.path === '/files/huge.bin').length;
    // A write failing on the gone socket while a read is pending must not be an unhandled rejection (the process would exit).
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    after(() => { process.off('unhandledRejection', onUnhandled); });
    // Reads the first chunk, then drops the connection: the server is still sending (32 MiB is more than the socket buffers hold).
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${cf.url}/files/huge.bin`, { agent: false }, (res) => {
        res.once('data', (chunk: Buffer) => { req.destroy(); resolve(chunk.length); });
      });
      // After the first chunk, the error is our own destroy; before it, a failure.
      req.on('error', reject);
    });
    expect(received).to.be.greaterThan(0);
    await waitFor('the cut hit logged', () => logs.requests.filter((l) => l.path === '/files/huge.bin').length > before);
    const lines = logs.requests.filter((l) => l.path === '/files/huge.bin').slice(before);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ status: 200, cache: 'HIT', complete: false });
    expect(lines[0]!.bytes as number).to.be.within(received, HUGE - 1);
    expect(unhandled).to.deep.equal([]);
    // The client going away is not a server fault.
    // (The start's warning that no admin token is configured is about the config, not this request.)
    expect(logs.lines.filter((l) => (l.level === 'error' || l.level === 'warn') && !String(l.msg).startsWith('no admin token configured'))).to.deep.equal([]);
    expect(lines[0]!.code).to.equal(undefined);
  });
});
