import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { genericRemotePipeline, type RemotePipelineHarness } from '../support/remote-pipeline.js';
import { cfError } from '../../src/errors/errors.js';
import type { ArtifactRequest, ArtifactResponse, CachedRoute, DocumentExpectation, Pipeline, ServeOptions, Verification } from '../../src/contract/index.js';

/** Reads a served response whole; an unverified body fails while it is read. */
async function drain(response: ArtifactResponse): Promise<Buffer> {
  if (response.entity?.bytes) return response.entity.bytes;
  const stream = await response.entity!.open();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const hash = (algorithm: string, body: Buffer) => createHash(algorithm).update(body).digest('hex');

describe('pipeline: the verification contract (ServeOptions.verify)', () => {
  let upstream: FakeUpstream;
  let harness: RemotePipelineHarness;
  let pipeline: Pipeline;
  const body = Buffer.from('the bytes of a package file');
  const req = (p: string): ArtifactRequest => ({
    method: 'GET', remote: 'pkgs', path: p, segments: p.split('/'), rawPath: p, search: '', headers: {}, publicBase: new URL('http://cache.local/pkgs/'),
  });
  const route = (key: string): CachedRoute => ({ kind: 'cached', key, class: 'immutable' });
  /** Serves `key` with `options`; the body, or the error code it failed with (and its message). */
  const get = (key: string, options: ServeOptions) => pipeline.serve(req(key), route(key), { url: `${upstream.url}${key}` }, options)
    .then(async (r) => ({ body: await drain(r), status: r.cacheStatus, code: undefined, message: '' }),
      (err: { code?: string; message: string }) => ({ body: undefined, status: undefined, code: err.code, message: err.message }));
  /** An index document listing files as `name sha256 size` lines. */
  const index = (key: string, pick?: DocumentExpectation['pick'], extra: Partial<DocumentExpectation> = {}): Verification => ({
    kind: 'document', route: { kind: 'cached', key, class: 'mutable', ttl: 3_600_000 }, upstream: { url: `${upstream.url}${key}` },
    pick: pick ?? ((doc) => {
      const line = doc.body.toString().split('\n').find((l) => l.split(' ')[0] === currentFile);
      if (!line) return undefined;
      const [, sha256, size] = line.split(' ');
      return { digests: [{ algorithm: 'sha256', hex: sha256! }], size: Number(size) };
    }),
    ...extra,
  });
  let currentFile = '';

  before(async () => {
    upstream = await new FakeUpstream().start();
    harness = await genericRemotePipeline('pkgs', upstream.url);
    pipeline = harness.pipeline;
  });
  after(async () => {
    await harness.close();
    await upstream.stop();
  });

  it('reads an index document only on a miss, through the pipeline (stored once), and verifies against it', async () => {
    upstream.set('/index-a.txt', { body: Buffer.from(`a1.whl ${hash('sha256', body)} ${body.length}\na2.whl ${hash('sha256', body)} ${body.length}\n`) });
    upstream.set('/a1.whl', { body });
    upstream.set('/a2.whl', { body });
    currentFile = 'a1.whl';
    expect((await get('a1.whl', { verify: index('index-a.txt') })).body?.equals(body)).to.equal(true);
    currentFile = 'a2.whl';
    expect((await get('a2.whl', { verify: index('index-a.txt') })).body?.equals(body)).to.equal(true);
    expect((await get('a1.whl', { verify: index('index-a.txt') })).status).to.equal('HIT');
    expect(upstream.count('/index-a.txt')).to.equal(1);
  });

  it('never commits bytes that fail: retries once from the upstream, then 502 naming the expected and actual digest', async () => {
    upstream.set('/b.whl', { body });
    const wrong = '0'.repeat(64);
    const result = await get('b.whl', { verify: { kind: 'known', digests: [{ algorithm: 'sha256', hex: wrong }] } });
    expect(result.code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(result.message).to.include(wrong).and.include(hash('sha256', body));
    expect(upstream.count('/b.whl')).to.equal(2);
    const again = await get('b.whl', { verify: { kind: 'known', digests: [{ algorithm: 'sha256', hex: wrong }] } });
    expect(again.code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(upstream.count('/b.whl')).to.equal(4);
  });

  it('serves and stores the retry when the second download passes', async () => {
    upstream.set('/c.whl', { body });
    let finished = 0;
    const flaky: Verification = {
      kind: 'known', verifier: () => ({ update: () => undefined, finish: () => { if (++finished === 1) throw new Error('first copy was corrupt'); } }),
    };
    const result = await get('c.whl', { verify: flaky });
    expect(result.code).to.equal(undefined);
    expect(result.body?.equals(body)).to.equal(true);
    expect(upstream.count('/c.whl')).to.equal(2);
    expect((await get('c.whl', { verify: flaky })).status).to.equal('HIT');
  });

  it('checks every digest given, in sha1, sha256, sha512 and md5', async () => {
    upstream.set('/d.whl', { body });
    const all = (['sha1', 'sha256', 'sha512', 'md5'] as const).map((algorithm) => ({ algorithm, hex: hash(algorithm, body).toUpperCase() }));
    upstream.set('/e.whl', { body });
    const md5Wrong = [...all.slice(0, 3), { algorithm: 'md5' as const, hex: 'f'.repeat(32) }];
    expect((await get('d.whl', { verify: { kind: 'known', digests: all } })).body?.equals(body)).to.equal(true);
    const failed = await get('e.whl', { verify: { kind: 'known', digests: md5Wrong } });
    expect(failed.code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(failed.message).to.include('md5');
  });

  it('checks the size an index lists', async () => {
    upstream.set('/f.whl', { body });
    const result = await get('f.whl', { verify: { kind: 'known', size: body.length + 1 } });
    expect(result.code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(result.message).to.include(String(body.length + 1));
  });

  it('gives a verifier of its own the finished body to read by position before commit', async () => {
    upstream.set('/g.zip', { body });
    const tail = body.subarray(-4).toString();
    const read: string[] = [];
    const result = await get('g.zip', {
      verify: {
        kind: 'known',
        verifier: () => ({
          update: () => undefined,
          finish: async (finished) => { read.push((await finished.read(finished.size - 4, 4)).toString()); expect(finished.sha256).to.equal(hash('sha256', body)); },
        }),
      },
    });
    expect(result.body?.equals(body)).to.equal(true);
    expect(read).to.deep.equal([tail]);
  });

  it('takes the digest from a checksum sidecar, the first the upstream has, in either file layout', async () => {
    upstream.set('/h.jar', { body });
    upstream.set('/h.jar.sha512', { status: 404 });
    upstream.set('/h.jar.sha1', { body: Buffer.from(`${hash('sha1', body)}  h.jar\n`) });
    const sidecars = (name: string) => ({
      kind: 'sidecar' as const,
      sidecars: (['sha512', 'sha1'] as const).map((algorithm) => ({ route: route(`${name}.${algorithm}`), upstream: { url: `${upstream.url}${name}.${algorithm}` }, algorithm })),
    });
    expect((await get('h.jar', { verify: sidecars('h.jar') })).body?.equals(body)).to.equal(true);
    upstream.set('/i.jar', { body });
    upstream.set('/i.jar.sha1', { body: Buffer.from(hash('sha1', Buffer.from('other bytes'))) });
    expect((await get('i.jar', { verify: sidecars('i.jar') })).code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    // None published: stored on its length by default, refused when the route says so.
    upstream.set('/j.jar', { body });
    expect((await get('j.jar', { verify: sidecars('j.jar') })).body?.equals(body)).to.equal(true);
    upstream.set('/k.jar', { body });
    expect((await get('k.jar', { verify: { ...sidecars('k.jar'), missing: 'fail' } })).code).to.equal('CF_ERR_UPSTREAM_INVALID');
    expect(upstream.count('/k.jar')).to.equal(0);
  });

  it('revalidates a stored index once when it does not list the artifact (published since), then 404s what is still unlisted', async () => {
    upstream.set('/index-l.txt', { body: Buffer.from('') });
    upstream.set('/l.whl', { body });
    currentFile = 'l.whl';
    expect((await get('l.whl', { verify: index('index-l.txt') })).code).to.equal('CF_ERR_UPSTREAM_NOT_FOUND');
    expect(upstream.count('/index-l.txt')).to.equal(1); // just fetched: not asked twice
    upstream.set('/index-l.txt', { body: Buffer.from(`l.whl ${hash('sha256', body)} ${body.length}\n`) });
    expect((await get('l.whl', { verify: index('index-l.txt') })).body?.equals(body)).to.equal(true);
    expect(upstream.count('/index-l.txt')).to.equal(2);
    currentFile = 'm.whl';
    upstream.set('/m.whl', { body });
    expect((await get('m.whl', { verify: index('index-l.txt', undefined, { unlisted: 'length' }) })).body?.equals(body)).to.equal(true);
    expect(upstream.count('/l.whl')).to.equal(1);
  });

  it('an error the index lookup raises answers the request before the artifact is asked for', async () => {
    upstream.set('/index-n.txt', { body: Buffer.from('') });
    upstream.set('/n.whl', { body });
    const code = (await get('n.whl', { verify: index('index-n.txt', () => { throw cfError('CF_ERR_NOT_FOUND', 'n.whl is not listed'); }) })).code;
    expect(code).to.equal('CF_ERR_NOT_FOUND');
    expect(upstream.count('/n.whl')).to.equal(0);
  });
});
