import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { FakeUpstream } from '../support/fake-upstream.js';
import { loadConfig } from '../../src/config/load.js';
import { createContainer, TOKENS } from '../../src/container.js';
import { createLogger } from '../../src/util/logger.js';
import { cfError } from '../../src/errors/errors.js';
import type { RemoteRegistry } from '../../src/plugin/remote-registry.js';
import type { Storage } from '../../src/storage/storage.js';
import type { MetadataStore } from '../../src/metadata/metadata.js';
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
  let dir: string;
  let container: DependencyContainer;
  let pipeline: Pipeline;
  const body = Buffer.from('the bytes of a package file');
  const sha = createHash('sha256').update(body).digest('hex');
  const req = (p: string): ArtifactRequest => ({
    method: 'GET', remote: 'pkgs', path: p, segments: p.split('/'), rawPath: p, search: '', headers: {}, publicBase: new URL('http://cache.local/pkgs/'),
  });

  before(async () => {
    upstream = await new FakeUpstream().start();
    dir = await mkdtemp(path.join(tmpdir(), 'cf-resolve-digest-'));
    const file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({
      storage: { filesystem: { path: path.join(dir, 'blobs') } }, metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
      plugins: ['@cacheforge/plugin-generic'], remotes: { pkgs: { type: 'generic', upstream: upstream.url, client: { retries: 0 } } },
    }));
    const { config, plugins } = await loadConfig({ configPath: file });
    container = createContainer(config, plugins, createLogger('silent'));
    await container.resolve<Storage>(TOKENS.Storage).init();
    await container.resolve<MetadataStore>(TOKENS.Metadata).init();
    pipeline = container.resolve<RemoteRegistry>(TOKENS.Registry).get('pkgs')!.pipeline;
  });
  after(async () => {
    await container.resolve<MetadataStore>(TOKENS.Metadata).close();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
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
