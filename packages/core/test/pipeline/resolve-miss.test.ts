import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { genericRemotePipeline, type RemotePipelineHarness } from '../support/remote-pipeline.js';
import { cfError } from '../../src/errors/errors.js';
import type { ArtifactRequest, ArtifactResponse, MissDetails, Pipeline } from '../../src/plugin/contract.js';

/** Reads a served response whole; an unverified body fails while it is read. */
async function drain(response: ArtifactResponse): Promise<Buffer> {
  if (response.entity?.bytes) return response.entity.bytes;
  const stream = await response.entity!.open();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('pipeline: a digest resolved only when the upstream must be asked (ServeOptions.resolveMiss)', () => {
  let upstream: FakeUpstream;
  let harness: RemotePipelineHarness;
  let pipeline: Pipeline;
  const body = Buffer.from('the bytes of a package file');
  const sha = createHash('sha256').update(body).digest('hex');
  const req = (p: string): ArtifactRequest => ({
    method: 'GET', remote: 'pkgs', path: p, segments: p.split('/'), rawPath: p, search: '', headers: {}, publicBase: new URL('http://cache.local/pkgs/'),
  });

  before(async () => {
    upstream = await new FakeUpstream().start();
    harness = await genericRemotePipeline('pkgs', upstream.url);
    pipeline = harness.pipeline;
  });
  after(async () => {
    await harness.close();
    await upstream.stop();
  });

  it('is called on a miss and verifies against what it returns; a hit never calls it', async () => {
    upstream.set('/a.whl', { body });
    let calls = 0;
    const resolveMiss = async (): Promise<MissDetails> => { calls++; return { digest: { algorithm: 'sha256', hex: sha } }; };
    const route = { kind: 'cached', key: 'a.whl', class: 'immutable' } as const;
    const first = await pipeline.serve(req('a.whl'), route, { url: `${upstream.url}a.whl` }, { resolveMiss });
    expect((await drain(first)).equals(body)).to.equal(true);
    expect(calls).to.equal(1);
    const second = await pipeline.serve(req('a.whl'), route, { url: `${upstream.url}a.whl` }, { resolveMiss });
    expect(second.cacheStatus).to.equal('HIT');
    expect(calls).to.equal(1);
  });

  it('rejects bytes that differ from the resolved digest and stores nothing', async () => {
    upstream.set('/b.whl', { body });
    const route = { kind: 'cached', key: 'b.whl', class: 'immutable' } as const;
    const wrong = async (): Promise<MissDetails> => ({ digest: { algorithm: 'sha256', hex: '0'.repeat(64) } });
    const response = await pipeline.serve(req('b.whl'), route, { url: `${upstream.url}b.whl` }, { resolveMiss: wrong })
      .then(drain).then(() => 'served', (err: { code?: string }) => err.code);
    expect(response).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    const retried = await pipeline.serve(req('b.whl'), route, { url: `${upstream.url}b.whl` }, { resolveMiss: wrong })
      .then(drain).then(() => 'served', (err: { code?: string }) => err.code);
    expect(retried).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(upstream.count('/b.whl')).to.equal(2);
  });

  it('an error it throws aborts the request before the upstream is asked', async () => {
    upstream.set('/c.whl', { body });
    const route = { kind: 'cached', key: 'c.whl', class: 'immutable' } as const;
    const code = await pipeline.serve(req('c.whl'), route, { url: `${upstream.url}c.whl` },
      { resolveMiss: async () => { throw cfError('CF_ERR_NOT_FOUND', 'c.whl is not listed'); } })
      .then(() => 'served', (err: { code?: string }) => err.code);
    expect(code).to.equal('CF_ERR_NOT_FOUND');
    expect(upstream.count('/c.whl')).to.equal(0);
  });
});
