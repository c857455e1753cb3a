import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Metrics } from '../../src/metrics/metrics.js';
import { MeasuredStorage } from '../../src/storage/measured-storage.js';
import { MeasuredMetadataStore } from '../../src/metadata/measured-metadata.js';
import { MeasuredCache } from '../../src/cache/measured-cache.js';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';
import { cfError } from '../../src/errors/errors.js';
import type { BlobWriter, Storage } from '../../src/storage/storage.js';
import type { MetadataStore } from '../../src/metadata/metadata.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';

/** The value of one sample in Prometheus' text format, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const broken = () => cfError('CF_ERR_STORAGE_BACKEND', 'the disk is on fire');

/** A storage whose every call fails, except a writer whose writes succeed and whose commit fails. */
function failingStorage(): Storage {
  const writer: BlobWriter = {
    bytesWritten: 0,
    write: async () => {},
    commit: async () => { throw broken(); },
    abort: async () => {},
  };
  const fail = async (): Promise<never> => { throw broken(); };
  return {
    name: 'broken', capabilities: { readWhileWriting: false },
    init: fail, writer: async () => writer, stat: fail, open: fail, openReader: fail, read: fail, delete: fail,
    list: () => ({ [Symbol.asyncIterator]: () => ({ next: fail }) }), ping: fail, close: fail,
  };
}

describe('measured backends: storage, metadata and hot-cache calls timed, failures counted by code', () => {
  it('a failing storage call counts one error under its operation and code, and is still timed', async () => {
    const metrics = new Metrics();
    const storage = new MeasuredStorage(failingStorage(), metrics.storage);
    await storage.stat('a'.repeat(64)).then(() => expect.fail('stat should fail'), (err) => expect(err.code).to.equal('CF_ERR_STORAGE_BACKEND'));
    const text = await metrics.registry.metrics();
    expect(sample(text, 'cacheforge_storage_errors_total', { backend: 'broken', op: 'stat', code: 'CF_ERR_STORAGE_BACKEND' })).to.equal(1);
    expect(sample(text, 'cacheforge_storage_operation_seconds_count', { backend: 'broken', op: 'stat' })).to.equal(1);
  });

  it('a writer: writes pass through untimed, commit and abort are timed, optional methods stay absent', async () => {
    const metrics = new Metrics();
    const storage = new MeasuredStorage(failingStorage(), metrics.storage);
    expect(storage.locate).to.equal(undefined);
    const writer = await storage.writer();
    expect(writer.openPartial).to.equal(undefined);
    await writer.write(Buffer.from('x'));
    await writer.commit({ digest: 'a'.repeat(64), size: 1 }).then(() => expect.fail('commit should fail'), () => {});
    await writer.abort();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'cacheforge_storage_errors_total', { backend: 'broken', op: 'commit', code: 'CF_ERR_STORAGE_BACKEND' })).to.equal(1);
    expect(sample(text, 'cacheforge_storage_operation_seconds_count', { backend: 'broken', op: 'abort' })).to.equal(1);
    expect(sample(text, 'cacheforge_storage_operation_seconds_count', { backend: 'broken', op: 'write' })).to.equal(undefined);
  });

  it('an error without a Cache Forge code is counted under its system code, else as unknown', async () => {
    const metrics = new Metrics();
    const fail = (err: unknown) => async (): Promise<never> => { throw err; };
    const inner = { name: 'db', getArtifact: fail(Object.assign(new Error('gone'), { code: 'ECONNRESET' })), ping: fail(new Error('free text')) };
    const metadata = new MeasuredMetadataStore(inner as unknown as MetadataStore, metrics.metadata);
    await metadata.getArtifact({ remote: 'r', key: 'k', variant: '' }).catch(() => {});
    await metadata.ping().catch(() => {});
    const text = await metrics.registry.metrics();
    expect(sample(text, 'cacheforge_metadata_errors_total', { backend: 'db', op: 'getArtifact', code: 'ECONNRESET' })).to.equal(1);
    expect(sample(text, 'cacheforge_metadata_errors_total', { backend: 'db', op: 'ping', code: 'unknown' })).to.equal(1);
  });

  it('the hot cache: a lock held elsewhere is a call, not a failure; a release is timed as unlock', async () => {
    const metrics = new Metrics();
    const cache = new MeasuredCache(new KeyvCache({ name: 'memory' }), metrics.cache);
    const release = await cache.tryLock('k', 10_000);
    expect(await cache.tryLock('k', 10_000)).to.equal(undefined);
    await release!();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'cacheforge_cache_operation_seconds_count', { backend: 'memory', op: 'tryLock' })).to.equal(2);
    expect(sample(text, 'cacheforge_cache_operation_seconds_count', { backend: 'memory', op: 'unlock' })).to.equal(1);
    expect(text).not.to.contain('cacheforge_cache_errors_total{');
    await cache.close();
  });

  describe('in a running server', function () {
    this.timeout(30_000);
    let upstream: FakeUpstream;
    let cf: RunningCacheForge;

    before(async () => {
      upstream = await new FakeUpstream().start();
      upstream.set('/a.bin', { body: randomBytes(4096) });
      cf = await startCacheForge({ remotes: { files: { type: 'generic', upstream: upstream.url } } });
    });
    after(async () => { await cf.cleanup(); await upstream.stop(); });

    it('a fill shows storage, metadata and cache timings at /-/metrics, by backend', async () => {
      expect((await request(`${cf.url}/files/a.bin`)).status).to.equal(200);
      const metric = async (name: string, labels: Record<string, string>) => sample((await request(`${cf.url}/-/metrics`)).body.toString('utf8'), name, labels);
      await waitFor('the fill to be recorded', async () => (await metric('cacheforge_metadata_operation_seconds_count', { backend: 'sqlite', op: 'putArtifact' }) ?? 0) >= 1);
      expect(await metric('cacheforge_storage_operation_seconds_count', { backend: 'filesystem', op: 'commit' })).to.be.at.least(1);
      expect(await metric('cacheforge_metadata_operation_seconds_count', { backend: 'sqlite', op: 'getArtifact' })).to.be.at.least(1);
      expect(await metric('cacheforge_cache_operation_seconds_count', { backend: 'memory', op: 'get' })).to.be.at.least(1);
    });
  });
});
