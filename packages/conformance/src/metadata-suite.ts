import { expect } from 'chai';
import type { ArtifactId, MetadataStore, NewArtifactRecord } from '@cacheforge/core';

/** How a metadata implementation is put under the kit. */
export interface MetadataSuiteOptions {
  /** A fresh, empty store (its own database or schema); the kit calls `init` itself. */
  create(): Promise<MetadataStore>;
  /**
   * A second store on the same database, as another replica would open it. When given, the kit
   * checks concurrent writers through both.
   */
  connectAgain?(first: MetadataStore): Promise<MetadataStore>;
  /** Tears the database down after the suite. */
  destroy?(store: MetadataStore): Promise<void>;
}

const D = (c: string) => c.repeat(64);

function record(key: string, over: Partial<NewArtifactRecord> = {}): NewArtifactRecord {
  return {
    remote: 'files', key, variant: '', digest: D('c'), size: 10, contentType: 'application/gzip',
    headers: { 'content-type': 'application/gzip', 'content-disposition': 'attachment; filename="ü.tgz"' },
    upstreamEtag: '"e-1"', upstreamLastModified: 'Mon, 02 Nov 2026 08:00:00 GMT', class: 'immutable', fetchedAt: 1000, checkedAt: 1000, ...over,
  };
}

const id = (key: string, variant = '', remote = 'files'): ArtifactId => ({ remote, key, variant });

/**
 * The metadata contract (see `MetadataStore` in @cacheforge/core): records by (remote, key,
 * variant), upserts that keep hit counts, access batches, paging, blob reference counts, and
 * writers on several connections (replicas) that never duplicate or lose a row.
 */
export function metadataSuite(name: string, options: MetadataSuiteOptions): void {
  describe(`${name}: metadata conformance`, function () {
    let store: MetadataStore;

    before(async function () {
      this.timeout(60_000);
      store = await options.create();
      await store.init();
      await store.init(); // migrations are idempotent
    });
    after(async function () {
      this.timeout(60_000);
      if (!store) return;
      await store.close();
      await options.destroy?.(store);
    });

    it('answers not-found for records it does not hold', async () => {
      expect(await store.getArtifact(id('nothing'))).to.equal(undefined);
      expect(await store.deleteArtifact(id('nothing'))).to.equal(false);
      expect(await store.countBlobReferences(D('9'))).to.equal(0);
      await store.markChecked(id('nothing'), 5); // a no-op, not an error
      await store.recordAccess([{ ...id('nothing'), hits: 1, lastAccess: 5 }]);
      expect(await store.getArtifact(id('nothing'))).to.equal(undefined);
    });

    it('stores a record and reads it back field for field, sizes past 4 GiB included', async () => {
      const big = record('big.iso', { size: 7 * 1024 ** 3 + 3, fetchedAt: 1_790_000_000_123, checkedAt: 1_790_000_000_456, class: 'mutable', contentType: undefined, upstreamEtag: undefined, upstreamLastModified: undefined, headers: {} });
      await store.putArtifact(big);
      expect(await store.getArtifact(id('big.iso'))).to.deep.equal({ ...big, hits: 0, lastAccess: 0 });
      const full = record('full.tgz');
      await store.putArtifact(full);
      expect(await store.getArtifact(id('full.tgz'))).to.deep.equal({ ...full, hits: 0, lastAccess: 0 });
    });

    it('replaces a record on put, keeping its hit count', async () => {
      await store.putArtifact(record('pkg-1.0.tgz'));
      await store.recordAccess([{ ...id('pkg-1.0.tgz'), hits: 3, lastAccess: 5000 }]);
      await store.putArtifact(record('pkg-1.0.tgz', { digest: D('d'), checkedAt: 2000, upstreamEtag: '"e-2"' }));
      expect(await store.getArtifact(id('pkg-1.0.tgz'))).to.include({ digest: D('d'), hits: 3, lastAccess: 5000, checkedAt: 2000, upstreamEtag: '"e-2"' });
    });

    it('keeps keys sharing a prefix, variants and remotes apart', async () => {
      await store.putArtifact(record('pkg'));
      await store.putArtifact(record('pkg-x', { digest: D('e') }));
      await store.putArtifact(record('pkg/', { digest: D('1') }));
      await store.putArtifact(record('pkg', { variant: 'application/json', digest: D('f') }));
      await store.putArtifact(record('pkg', { remote: 'other', digest: D('2') }));
      expect((await store.getArtifact(id('pkg')))!.digest).to.equal(D('c'));
      expect((await store.getArtifact(id('pkg-x')))!.digest).to.equal(D('e'));
      expect((await store.getArtifact(id('pkg/')))!.digest).to.equal(D('1'));
      expect((await store.getArtifact(id('pkg', 'application/json')))!.digest).to.equal(D('f'));
      expect((await store.getArtifact(id('pkg', '', 'other')))!.digest).to.equal(D('2'));
      expect(await store.getArtifact(id('pk'))).to.equal(undefined);
      expect(await store.deleteArtifact(id('pkg', '', 'other'))).to.equal(true);
      expect((await store.getArtifact(id('pkg')))!.digest).to.equal(D('c'));
    });

    it('stores long and non-ASCII keys exactly', async () => {
      const keys = [`deep/${'a/'.repeat(900)}file.tgz`, 'ünïcödé/日本語/ファイル.tar.gz', 'quote\'s "and" %2F spaces  .tgz'];
      for (const key of keys) await store.putArtifact(record(key, { digest: D('3') }));
      for (const key of keys) expect((await store.getArtifact(id(key)))!.key).to.equal(key);
      for (const key of keys) expect(await store.deleteArtifact(id(key))).to.equal(true);
    });

    it('adds hits and moves last access only forward, in batches', async () => {
      await store.putArtifact(record('acc'));
      await store.recordAccess([{ ...id('acc'), hits: 1, lastAccess: 9000 }, { ...id('pkg'), hits: 2, lastAccess: 100 }]);
      await store.recordAccess([{ ...id('acc'), hits: 4, lastAccess: 4000 }]);
      await store.recordAccess([]);
      expect(await store.getArtifact(id('acc'))).to.include({ hits: 5, lastAccess: 9000 });
      await store.markChecked(id('acc'), 7777);
      expect((await store.getArtifact(id('acc')))!.checkedAt).to.equal(7777);
    });

    it('lists records ordered by key, page by page, per remote', async () => {
      await store.putArtifact(record('page/c'));
      await store.putArtifact(record('page/a'));
      await store.putArtifact(record('page/b'));
      await store.putArtifact(record('page/a', { remote: 'other' }));
      const first = await store.listArtifacts({ remote: 'files', limit: 2 });
      expect(first).to.have.length(2);
      const all: string[] = [];
      let afterKey: string | undefined;
      for (let page = 0; page < 100; page++) {
        const rows = await store.listArtifacts({ remote: 'files', afterKey, limit: 2 });
        if (rows.length === 0) break;
        all.push(...rows.map((r) => r.key));
        afterKey = rows.at(-1)!.key;
      }
      expect(all).to.deep.equal([...all].sort());
      expect(all).to.include.members(['page/a', 'page/b', 'page/c', 'pkg', 'pkg-x']);
      expect(new Set(all).size, 'no key twice across pages').to.equal(all.length - all.filter((k) => k === 'pkg').length + 1);
      expect((await store.listArtifacts({ remote: 'other', limit: 10 })).map((r) => r.key)).to.deep.equal(['page/a']);
      expect((await store.listArtifacts({ limit: 1000 })).some((r) => r.remote === 'other')).to.equal(true);
    });

    it('counts the records that reference a blob', async () => {
      await store.putArtifact(record('ref-1', { digest: D('7') }));
      await store.putArtifact(record('ref-2', { digest: D('7') }));
      await store.putArtifact(record('ref-2', { digest: D('7'), variant: 'v' }));
      expect(await store.countBlobReferences(D('7'))).to.equal(3);
      await store.deleteArtifact(id('ref-1'));
      expect(await store.countBlobReferences(D('7'))).to.equal(2);
    });

    it('never duplicates or loses a row when replicas write the same records at once', async function () {
      this.timeout(60_000);
      const other = options.connectAgain ? await options.connectAgain(store) : store;
      try {
        await other.init(); // a replica starting while the first one runs
        const writers = [store, other];
        const keys = Array.from({ length: 8 }, (_, i) => `race/${i}`);
        await Promise.all(Array.from({ length: 40 }, (_, i) => writers[i % 2]!.putArtifact(record(keys[i % keys.length]!, { digest: D(String(i % 10)), fetchedAt: i }))));
        // Overlapping access batches in opposite orders, as two replicas flushing together.
        const batch = keys.map((key) => ({ ...id(key), hits: 1, lastAccess: 10 }));
        await Promise.all(Array.from({ length: 10 }, (_, i) => writers[i % 2]!.recordAccess(i % 2 ? batch : [...batch].reverse())));
        const rows = (await store.listArtifacts({ remote: 'files', afterKey: 'race/', limit: 1000 })).filter((r) => r.key.startsWith('race/'));
        expect(rows.map((r) => r.key)).to.deep.equal(keys);
        for (const row of rows) expect(row.hits, row.key).to.equal(10);
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('answers ping', async () => {
      await store.ping();
    });

    it('is clean once every record is deleted', async () => {
      for (let round = 0; round < 100; round++) {
        const rows = await store.listArtifacts({ limit: 500 });
        if (rows.length === 0) break;
        for (const row of rows) expect(await store.deleteArtifact(row)).to.equal(true);
      }
      expect(await store.listArtifacts({ limit: 10 })).to.deep.equal([]);
    });
  });
}
