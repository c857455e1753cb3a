import { expect } from 'chai';
import type { DependencyContainer } from 'tsyringe';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { genericRemotePipeline, type RemotePipelineHarness } from '../support/remote-pipeline.js';
import { TOKENS } from '../../src/container.js';
import type { MetadataStore } from '../../src/metadata/metadata.js';
import type { ArtifactRequest, Pipeline } from '../../src/contract/index.js';

describe('pipeline: load() and passthrough(), as format plugins use them', () => {
  let upstream: FakeUpstream;
  let harness: RemotePipelineHarness;
  let container: DependencyContainer;
  let pipeline: Pipeline;
  const req = (method: 'GET' | 'HEAD' = 'GET'): ArtifactRequest => ({
    method, remote: 'docs', path: 'search', segments: ['search'], rawPath: 'search', search: '?q=x',
    headers: { accept: 'application/json', cookie: 'secret' }, publicBase: new URL('http://cache.local/docs/'),
  });

  before(async () => {
    upstream = await new FakeUpstream().start();
    harness = await genericRemotePipeline('docs', upstream.url);
    ({ container, pipeline } = harness);
  });
  after(async () => {
    await harness.close();
    await upstream.stop();
  });

  it('load() reads a document whole: fetched once, then a hit, with its validators', async () => {
    upstream.set('/index.json', { body: Buffer.from('{"versions":["1.0.0"]}'), headers: { 'content-type': 'application/json' } });
    const route = { kind: 'cached', key: 'index.json' } as const;
    const first = await pipeline.load(route, { url: `${upstream.url}index.json` });
    expect(first.cacheStatus).to.equal('MISS');
    expect(JSON.parse(first.body.toString())).to.deep.equal({ versions: ['1.0.0'] });
    expect(first.contentType).to.equal('application/json');
    expect(first.etag).to.match(/^"[0-9a-f]{64}"$/);
    const second = await pipeline.load(route, { url: `${upstream.url}index.json` });
    expect(second.cacheStatus).to.equal('HIT');
    expect(second.body.equals(first.body)).to.equal(true);
    expect(upstream.count('/index.json')).to.equal(1);
  });

  it('load() refuses a document larger than maxBytes', async () => {
    upstream.set('/huge.json', { body: Buffer.alloc(5000, 0x20) });
    const err = await pipeline.load({ kind: 'cached', key: 'huge.json' }, { url: `${upstream.url}huge.json` }, { maxBytes: 1000 })
      .then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).to.equal('CF_ERR_POLICY_TOO_LARGE');
  });

  it('load() verifies the digest a format promises, and stores nothing that fails it', async () => {
    upstream.set('/pkg.tgz', { body: Buffer.from('tarball bytes') });
    const err = await pipeline.load({ kind: 'cached', key: 'pkg.tgz' }, { url: `${upstream.url}pkg.tgz` }, { verify: { kind: 'known', digests: [{ algorithm: 'sha512', hex: 'ab'.repeat(64) }] } })
      .then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    const metadata = container.resolve<MetadataStore>(TOKENS.Metadata);
    expect(await metadata.getArtifact({ remote: 'docs', key: 'pkg.tgz', variant: '' })).to.equal(undefined);
  });

  it('passthrough() relays the upstream answer uncached (BYPASS), forwarding only safe headers', async () => {
    upstream.set('/search', { body: Buffer.from('{"objects":[]}'), headers: { 'content-type': 'application/json', 'set-cookie': 'a=b' } });
    const res = await pipeline.passthrough(req(), { url: `${upstream.url}search?q=x` });
    expect(res.cacheStatus).to.equal('BYPASS');
    expect(res.status).to.equal(200);
    expect(res.headers?.['content-type']).to.equal('application/json');
    expect(res.headers?.['set-cookie']).to.equal(undefined);
    const chunks: Buffer[] = [];
    for await (const c of res.body as AsyncIterable<Buffer>) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).to.equal('{"objects":[]}');
    const seen = upstream.requests.filter((r) => r.path === '/search');
    expect(seen).to.have.length(1);
    expect(seen[0]!.headers.accept).to.equal('application/json');
    expect(seen[0]!.headers.cookie).to.equal(undefined);
    const again = await pipeline.passthrough(req(), { url: `${upstream.url}search?q=x` });
    (again.body as NodeJS.ReadableStream).resume();
    expect(upstream.requests.filter((r) => r.path === '/search')).to.have.length(2);
  });

  it("passthrough() relays the upstream's 4xx as its answer and maps a 5xx to a coded error", async () => {
    upstream.set('/gone', { status: 404 });
    const missing = await pipeline.passthrough(req(), { url: `${upstream.url}gone` });
    const chunks: Buffer[] = [];
    for await (const c of missing.body as AsyncIterable<Buffer>) chunks.push(c);
    expect({ status: missing.status, cache: missing.cacheStatus, body: Buffer.concat(chunks).toString() }).to.deep.equal({ status: 404, cache: 'BYPASS', body: 'status 404' });
    upstream.set('/broken', { status: 503 });
    const broken = await pipeline.passthrough(req(), { url: `${upstream.url}broken` }).then(() => undefined, (e: { code?: string }) => e);
    expect(broken?.code).to.equal('CF_ERR_UPSTREAM_UNAVAILABLE');
  });
});
