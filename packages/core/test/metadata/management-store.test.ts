import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KnexMetadataStore } from '../../src/metadata/knex/knex-metadata-store.js';
import { KnexManagementStore } from '../../src/metadata/knex/knex-management-store.js';
import type { NewArtifactRecord } from '../../src/metadata/metadata.js';
import { usePgDatabase } from '../support/services.js';

function row(remote: string, key: string, size: number, digest = key.length.toString(16).padStart(64, '0'), variant = ''): NewArtifactRecord {
  return { remote, key, variant, digest, size, headers: {}, class: 'immutable', fetchedAt: 1, checkedAt: 1 };
}

/** The management tables and queries, the same checks on each dialect. */
function managementSuite(dialect: 'sqlite' | 'postgres', open: () => Promise<KnexMetadataStore>) {
  let metadata: KnexMetadataStore;
  let store: KnexManagementStore;
  before(async () => {
    metadata = await open();
    await metadata.init();
    store = new KnexManagementStore(metadata.knex, dialect);
  });
  after(async () => { await metadata?.close(); });

  it('keeps tokens by hash: create, look up, list, touch, revoke; a name stays taken', async () => {
    await store.tokens.create({ id: 't1', name: 'ci', hash: 'a'.repeat(64), scopes: ['read'], remotes: ['npm'], createdAt: 10, expiresAt: 99 });
    expect((await store.tokens.byHash('a'.repeat(64)))?.name).to.equal('ci');
    expect(await store.tokens.byHash('b'.repeat(64))).to.equal(undefined);
    await store.tokens.touch([{ id: 't1', at: 50 }]);
    await store.tokens.touch([{ id: 't1', at: 40 }]);
    expect((await store.tokens.byId('t1'))?.lastUsedAt, 'last-used only moves forward').to.equal(50);
    expect(await store.tokens.revoke('t1', 60)).to.equal(true);
    expect(await store.tokens.revoke('t1', 70)).to.equal(false);
    const [listed] = await store.tokens.list();
    expect(listed).to.deep.include({ id: 't1', remotes: ['npm'], scopes: ['read'], createdAt: 10, expiresAt: 99, revokedAt: 60 });
    const again = await store.tokens.create({ id: 't2', name: 'ci', hash: 'c'.repeat(64), scopes: ['read'], createdAt: 11 }).then(() => undefined, (e: { code: string }) => e.code);
    expect(again).to.equal('CF_ERR_API_CONFLICT');
  });

  it('lists a prefix\'s children like a folder, byte-wise, a page at a time', async () => {
    const keys = ['pkg/a/1.tgz', 'pkg/a/2.tgz', 'pkg/a-b.json', 'pkg/A', 'pkg/b.json', 'pkg/a.json', 'other/x', 'pkg0'];
    for (const [i, key] of keys.entries()) await metadata.putArtifact(row('npm', key, 10 + i));
    await metadata.putArtifact(row('npm', 'pkg/b.json', 100, 'f'.repeat(64), 'gzip'));
    await metadata.putArtifact(row('pypi', 'pkg/a/1.tgz', 1));
    const all = await store.catalogue.children('npm', 'pkg/', { limit: 10 });
    expect(all.map((c) => c.name)).to.deep.equal(['A', 'a-b.json', 'a.json', 'a/', 'b.json']);
    expect(all.find((c) => c.name === 'a/')).to.deep.include({ kind: 'folder', count: 2, size: 10 + 11 });
    expect(all.find((c) => c.name === 'b.json')).to.deep.include({ kind: 'artifact', count: 2, size: 14 + 100 });
    const first = await store.catalogue.children('npm', 'pkg/', { limit: 3 });
    const rest = await store.catalogue.children('npm', 'pkg/', { limit: 3, after: first.at(-1)!.name });
    expect([...first, ...rest].map((c) => c.name)).to.deep.equal(all.map((c) => c.name));
    const afterFolder = await store.catalogue.children('npm', 'pkg/', { limit: 3, after: 'a/' });
    expect(afterFolder.map((c) => c.name)).to.deep.equal(['b.json']);
    expect((await store.catalogue.children('npm', '', { limit: 10 })).map((c) => c.name)).to.deep.equal(['other/', 'pkg/', 'pkg0']);
    expect((await store.catalogue.search('npm', 'pkg/', '.json', { limit: 10 })).map((r) => `${r.key}|${r.variant}`)).to.deep.equal(['pkg/a-b.json|', 'pkg/a.json|', 'pkg/b.json|', 'pkg/b.json|gzip']);
    expect((await store.catalogue.variants('npm', 'pkg/b.json')).map((r) => r.variant)).to.deep.equal(['', 'gzip']);
  });

  it('purges one key, a prefix, a remote, and says which blobs nothing references any more', async () => {
    await metadata.putArtifact(row('docker', 'x/1', 5, '1'.repeat(64)));
    await metadata.putArtifact(row('docker', 'x/2', 5, '2'.repeat(64)));
    await metadata.putArtifact(row('docker', 'y/1', 5, '2'.repeat(64)));
    await metadata.putArtifact(row('docker', 'x0', 5, '3'.repeat(64)));
    const one = await store.catalogue.purge({ remote: 'docker', key: 'x/1' });
    expect(one.map((r) => r.key)).to.deep.equal(['x/1']);
    const prefix = await store.catalogue.purge({ remote: 'docker', prefix: 'x/' });
    expect(prefix.map((r) => r.key)).to.deep.equal(['x/2']);
    expect(await store.catalogue.unreferenced(['1'.repeat(64), '2'.repeat(64)])).to.deep.equal(['1'.repeat(64)]);
    const rest = await store.catalogue.purge({ remote: 'docker' });
    expect(rest.map((r) => r.key).sort()).to.deep.equal(['x0', 'y/1']);
    expect(await metadata.getArtifact({ remote: 'npm', key: 'pkg/A', variant: '' })).to.not.equal(undefined);
  });

  it('adds statistics up across batches and sums them over a time range', async () => {
    const hour = 3600_000;
    await store.stats.add([{ period: 0, remote: 'npm', kind: 'status', name: 'HIT', requests: 2, bytes: 20 }, { period: hour, remote: 'npm', kind: 'status', name: 'HIT', requests: 1, bytes: 5 }]);
    await store.stats.add([{ period: 0, remote: 'npm', kind: 'status', name: 'HIT', requests: 3, bytes: 30 }, { period: 0, remote: 'pypi', kind: 'client', name: 'ci', requests: 1, bytes: 1 }]);
    const all = await store.stats.totals({ remote: 'npm' });
    expect(all).to.deep.equal([{ remote: 'npm', kind: 'status', name: 'HIT', requests: 6, bytes: 55 }]);
    expect(await store.stats.totals({ remote: 'npm', until: hour })).to.deep.equal([{ remote: 'npm', kind: 'status', name: 'HIT', requests: 5, bytes: 50 }]);
    expect((await store.stats.totals({})).length).to.equal(2);
  });
}

describe('KnexManagementStore on SQLite', function () {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-mgmt-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });
  managementSuite('sqlite', async () => new KnexMetadataStore({ dialect: 'sqlite', filename: path.join(dir, 'm.db') }));
});

describe('KnexManagementStore on PostgreSQL', function () {
  const db = usePgDatabase();
  managementSuite('postgres', async () => new KnexMetadataStore({ dialect: 'postgres', connection: db.url, pool: { max: 4 } }));
});
