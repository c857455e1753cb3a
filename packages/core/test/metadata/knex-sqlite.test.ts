import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KnexMetadataStore } from '../../src/metadata/knex/knex-metadata-store.js';
import type { NewArtifactRecord } from '../../src/metadata/metadata.js';

describe('KnexMetadataStore on SQLite', () => {
  let dir: string;
  let db: KnexMetadataStore;
  const record = (key: string, over: Partial<NewArtifactRecord> = {}): NewArtifactRecord => ({
    remote: 'files', key, variant: '', digest: 'c'.repeat(64), size: 10, contentType: 'application/gzip', headers: { 'content-type': 'application/gzip' },
    upstreamEtag: '"e"', upstreamLastModified: 'Mon, 02 Nov 2026 08:00:00 GMT', class: 'immutable', fetchedAt: 1000, checkedAt: 1000, ...over,
  });
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-meta-'));
    db = new KnexMetadataStore({ dialect: 'sqlite', filename: path.join(dir, 'm.db') });
    await db.init();
    await db.init(); // migrations are idempotent
  });
  after(async () => { await db.close(); await rm(dir, { recursive: true, force: true }); });

  it('stores, reads and replaces a record, keeping its hits', async () => {
    await db.putArtifact(record('pkg-1.0.tgz'));
    await db.recordAccess([{ remote: 'files', key: 'pkg-1.0.tgz', variant: '', hits: 3, lastAccess: 5000 }]);
    await db.putArtifact(record('pkg-1.0.tgz', { digest: 'd'.repeat(64), checkedAt: 2000 }));
    const got = (await db.getArtifact({ remote: 'files', key: 'pkg-1.0.tgz', variant: '' }))!;
    expect(got).to.include({ digest: 'd'.repeat(64), size: 10, hits: 3, lastAccess: 5000, checkedAt: 2000, class: 'immutable' });
    expect(got.headers).to.deep.equal({ 'content-type': 'application/gzip' });
  });

  it('keeps keys sharing a prefix, and variants, apart', async () => {
    await db.putArtifact(record('pkg'));
    await db.putArtifact(record('pkg-x', { digest: 'e'.repeat(64) }));
    await db.putArtifact(record('pkg', { variant: 'application/json', digest: 'f'.repeat(64) }));
    expect((await db.getArtifact({ remote: 'files', key: 'pkg', variant: '' }))!.digest).to.equal('c'.repeat(64));
    expect((await db.getArtifact({ remote: 'files', key: 'pkg-x', variant: '' }))!.digest).to.equal('e'.repeat(64));
    expect((await db.getArtifact({ remote: 'files', key: 'pkg', variant: 'application/json' }))!.digest).to.equal('f'.repeat(64));
    expect(await db.getArtifact({ remote: 'other', key: 'pkg', variant: '' })).to.equal(undefined);
  });

  it('moves last access only forward and counts blob references', async () => {
    await db.recordAccess([{ remote: 'files', key: 'pkg', variant: '', hits: 1, lastAccess: 9000 }]);
    await db.recordAccess([{ remote: 'files', key: 'pkg', variant: '', hits: 1, lastAccess: 4000 }]);
    expect((await db.getArtifact({ remote: 'files', key: 'pkg', variant: '' }))!).to.include({ hits: 2, lastAccess: 9000 });
    expect(await db.countBlobReferences('c'.repeat(64))).to.equal(1);
    await db.markChecked({ remote: 'files', key: 'pkg', variant: '' }, 7777);
    expect((await db.getArtifact({ remote: 'files', key: 'pkg', variant: '' }))!.checkedAt).to.equal(7777);
    expect((await db.listArtifacts({ remote: 'files', limit: 10 })).map((r) => r.key)).to.include.members(['pkg', 'pkg-x', 'pkg-1.0.tgz']);
    expect(await db.deleteArtifact({ remote: 'files', key: 'pkg-x', variant: '' })).to.equal(true);
    expect(await db.deleteArtifact({ remote: 'files', key: 'pkg-x', variant: '' })).to.equal(false);
  });
});
