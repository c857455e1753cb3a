import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { LogCapture, ManualClock, request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { ChartRepo, REPO_PATH } from './support/chart-repo.js';
import { sha256 } from './support/charts.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TTL_MS = 60_000;

type Index = { entries: Record<string, Array<{ version: string; digest: string; urls: string[] }>> };

/** Requests Cache Forge made to the fixture hosts for `path` (GET only). */
const gets = (repo: ChartRepo, p: string) => repo.seen.filter((r) => r.path === p && r.method === 'GET').length;

describe('helm: a chart repository through the cache (three real hosts on 127.0.0.1)', function () {
  this.timeout(60_000);
  const clock = new ManualClock();
  let fixture: ChartRepo;
  let cf: RunningCacheForge;
  let base: string;
  const logs = new LogCapture();

  before(async () => {
    fixture = await new ChartRepo().start();
    cf = await startCacheForge({
      plugins: [PLUGIN],
      log: { level: 'info' },
      remotes: {
        helm: { type: 'helm', upstream: fixture.upstream, allowedHosts: fixture.allowedHosts, ttl: { mutable: `${TTL_MS}ms` } },
        narrow: { type: 'helm', upstream: fixture.upstream },
      },
    }, { clock, logTo: logs });
    base = `${cf.url}/helm/`;
  });

  after(async () => {
    await cf?.cleanup();
    await fixture?.stop();
  });

  it('serves index.yaml with every chart URL pointing here, relative to the index, and the rest as stored', async () => {
    const r = await request(`${base}index.yaml`);
    expect(r.status).to.equal(200);
    expect(r.headers.vary).to.match(/accept-encoding/i);
    const index = parse(r.body.toString()) as Index;
    const github = new URL(fixture.github.url).host;
    expect(index.entries.hello!.map((e) => e.urls[0])).to.deep.equal([
      `-/http/${github}/owner/charts/releases/download/hello-0.2.0/hello-0.2.0.tgz`,
      'charts/hello-0.1.0.tgz',
    ]);
    // Only the URL that changed differs from the upstream's bytes.
    const absolute = `${fixture.github.url}owner/charts/releases/download/hello-0.2.0/hello-0.2.0.tgz`;
    expect(r.body.toString()).to.equal(fixture.indexText.replace(absolute, JSON.stringify(index.entries.hello![0]!.urls[0])));
  });

  it('leaves chart URLs on hosts the remote does not allow as they are, and says once which key to set', async () => {
    const github = new URL(fixture.github.url).host;
    for (let i = 0; i < 2; i++) {
      const index = parse((await request(`${cf.url}/narrow/index.yaml`, { headers: { 'accept-encoding': i ? 'gzip' : 'identity' } }).then((r) => (i ? gunzipSync(r.body) : r.body))).toString()) as Index;
      expect(index.entries.hello![0]!.urls[0]).to.equal(`${fixture.github.url}owner/charts/releases/download/hello-0.2.0/hello-0.2.0.tgz`);
    }
    const warnings = logs.lines.filter((l) => l.level === 'warn' && String(l.msg).includes('remotes.narrow.allowedHosts'));
    expect(warnings.map((w) => w.host)).to.deep.equal([github]);
  });

  it('serves the same index gzip to a client that takes it', async () => {
    const plain = await request(`${base}index.yaml`);
    const gz = await request(`${base}index.yaml`, { headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gz.headers.etag).to.not.equal(plain.headers.etag);
    expect(gunzipSync(gz.body).equals(plain.body)).to.equal(true);
    const refused = await request(`${base}index.yaml`, { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    expect(refused.headers['content-encoding']).to.equal(undefined);
  });

  it('answers a conditional request for the index with 304', async () => {
    const first = await request(`${base}index.yaml`);
    const again = await request(`${base}index.yaml`, { headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.status).to.equal(304);
  });

  it('fetches a chart beside the index once, verified, then serves it from the store', async () => {
    const chart = `${base}charts/hello-0.1.0.tgz`;
    const miss = await request(chart);
    expect([miss.status, miss.headers['x-cache-status']]).to.deep.equal([200, 'MISS']);
    expect(sha256(miss.body)).to.equal(sha256(fixture.charts['hello-0.1.0']));
    await cf.fillsSettled();
    const hit = await request(chart);
    expect([hit.status, hit.headers['x-cache-status']]).to.deep.equal([200, 'HIT']);
    expect(gets(fixture, `${REPO_PATH}charts/hello-0.1.0.tgz`)).to.equal(1);
  });

  it('fetches a chart on a GitHub-like host through its redirect to a CDN-like host', async () => {
    const index = parse((await request(`${base}index.yaml`)).body.toString()) as Index;
    const r = await request(new URL(index.entries.hello![0]!.urls[0]!, base).href);
    expect(r.status).to.equal(200);
    expect(sha256(r.body)).to.equal(sha256(fixture.charts['hello-0.2.0']));
    expect(fixture.github.requests.length).to.equal(1);
    expect(fixture.cdn.requests.length).to.equal(1);
  });

  it('serves a provenance file listed beside its chart', async () => {
    const r = await request(`${base}charts/hello-0.1.0.tgz.prov`);
    expect(r.status).to.equal(200);
    expect(r.body.equals(fixture.provenance)).to.equal(true);
  });

  it('refuses a chart whose bytes differ from its index digest, twice, and never stores it', async () => {
    const chart = `${base}charts/tampered-1.0.0.tgz`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await request(chart);
      expect(r.status).to.equal(502);
      expect(JSON.parse(r.body.toString()).errors[0].code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    }
    await cf.fillsSettled();
    // Each refusal is the mismatch and its one retry.
    expect(gets(fixture, `${REPO_PATH}charts/tampered-1.0.0.tgz`)).to.equal(4);
  });

  it('answers 404 for a chart the index does not list, without asking for it', async () => {
    const r = await request(`${base}charts/unknown-9.9.9.tgz`);
    expect(r.status).to.equal(404);
    expect(gets(fixture, `${REPO_PATH}charts/unknown-9.9.9.tgz`)).to.equal(0);
  });

  it('refuses a file on a host the remote does not allow, without a request', async () => {
    const r = await request(`${base}-/https/elsewhere.example/x/y-1.0.0.tgz`);
    expect(r.status).to.equal(404);
    expect(r.body.toString()).to.contain('allowedHosts');
  });

  it('revalidates the expired index with its ETag (304 upstream: REVALIDATED)', async () => {
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1000);
    const conditional = () => fixture.repo.requests.filter((q) => q.path === `${REPO_PATH}index.yaml` && q.headers['if-none-match']).length;
    const before = conditional();
    const r = await request(`${base}index.yaml`);
    expect(r.headers['x-cache-status']).to.equal('REVALIDATED');
    expect(conditional()).to.equal(before + 1);
  });

  it('with every upstream host stopped: the index STALE, charts HIT, the tampered chart still refused', async () => {
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1000);
    await fixture.stop();
    const index = await request(`${base}index.yaml`);
    expect([index.status, index.headers['x-cache-status']]).to.deep.equal([200, 'STALE']);
    const parsed = parse(index.body.toString()) as Index;
    for (const url of parsed.entries.hello!.map((e) => e.urls[0]!)) {
      const chart = await request(new URL(url, base).href);
      expect([chart.status, chart.headers['x-cache-status']]).to.deep.equal([200, 'HIT']);
    }
    expect((await request(`${base}charts/tampered-1.0.0.tgz`)).status).to.not.equal(200);
  });

  it('logged the index read (entries, time)', () => {
    const read = logs.lines.filter((l) => l.msg === 'index.yaml read');
    // Once per remote and stored version (the revalidation found the same bytes).
    expect(read.map((l) => l.entries)).to.deep.equal([3, 3]);
  });
});
