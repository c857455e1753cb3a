import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import * as Minio from 'minio';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { storageSuite } from '../../../conformance/src/index.js';
import { startS3, runId, type S3Endpoint } from '../support/services.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every object under the store's prefix outside its blobs: temporaries a write left behind. */
async function temporaries(storage: S3Storage, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of storage.client.listObjectsV2(storage.bucket, `${prefix}tmp/`, true) as AsyncIterable<Minio.BucketItem>) {
    if (item.name) names.push(item.name);
  }
  return names;
}

describe('S3Storage', function () {
  let s3: S3Endpoint;
  before(async function () {
    this.timeout(30_000);
    s3 = await startS3();
  });
  after(async function () {
    this.timeout(30_000);
    await s3?.stop();
  });

  const prefixes = new Map<S3Storage, string>();
  const stagingDirs = new Map<S3Storage, string>();
  const residue = async (storage: S3Storage) => [
    ...await temporaries(storage, prefixes.get(storage)!),
    ...(stagingDirs.has(storage) ? await readdir(stagingDirs.get(storage)!).catch(() => []) : []),
  ];
  // As configured by `storage.s3` (uploads staged on local disk, lagging behind the writer).
  storageSuite('S3Storage', {
    async create() {
      const options = s3.options(`kit-${runId()}/`);
      const staging = await mkdtemp(path.join(tmpdir(), 'cf-s3-staging-'));
      const storage = new S3Storage({ ...options, staging });
      prefixes.set(storage, options.prefix);
      stagingDirs.set(storage, staging);
      return storage;
    },
    residue: (storage) => residue(storage as S3Storage),
    destroy: async (storage) => rm(stagingDirs.get(storage as S3Storage)!, { recursive: true, force: true }),
  });
  // Without staging: every write waits for the upload (the multi-GiB check is covered above).
  storageSuite('S3Storage, unstaged', {
    async create() {
      const options = s3.options(`kit-${runId()}/`);
      const storage = new S3Storage(options);
      prefixes.set(storage, options.prefix);
      return storage;
    },
    residue: (storage) => residue(storage as S3Storage),
    largeBytes: 256 * 1024 * 1024,
  });

  describe('S3Storage specifics', () => {
    it('creates a missing bucket, and names bucket and endpoint when the credentials are refused', async () => {
      const fresh = new S3Storage({ ...s3.options(), bucket: `cf-new-${runId()}` });
      await fresh.init();
      expect(await fresh.client.bucketExists(fresh.bucket)).to.equal(true);
      await fresh.client.removeBucket(fresh.bucket);
      const refused = new S3Storage({ ...s3.options(), bucket: `cf-denied-${runId()}`, secretKey: 'wrong-secret' });
      const err = await refused.init().then(() => undefined, (e: { code?: string; message: string }) => e);
      expect(err?.code).to.equal('CF_ERR_STORAGE_BACKEND');
      expect(err?.message).to.match(/cf-denied-/).and.match(/127\.0\.0\.1|http/);
    });

    it('uploads a body larger than a part as a multipart upload, visible only after commit', async function () {
      this.timeout(60_000);
      const options = s3.options(`multi-${runId()}/`);
      const storage = new S3Storage(options);
      await storage.init();
      const body = randomBytes(options.partSize * 2 + 12_345);
      const writer = await storage.writer();
      for (let at = 0; at < body.length; at += 256 * 1024) await writer.write(body.subarray(at, at + 256 * 1024));
      expect(await storage.stat(sha(body))).to.equal(undefined);
      await writer.commit({ digest: sha(body), size: body.length });
      expect((await storage.read(sha(body))).equals(body)).to.equal(true);
      expect(await temporaries(storage, options.prefix)).to.deep.equal([]);
      // The object sits under the prefix, named by its digest.
      expect((await storage.client.statObject(storage.bucket, `${options.prefix}sha256/${sha(body).slice(0, 2)}/${sha(body)}`)).size).to.equal(body.length);
      await storage.delete(sha(body));
    });

    it('sweeps temporaries a crashed writer left, but not the fresh ones of a live replica', async () => {
      const options = s3.options(`sweep-${runId()}/`);
      const storage = new S3Storage(options);
      await storage.init();
      await storage.client.putObject(storage.bucket, `${options.prefix}tmp/live-upload`, Buffer.from('in progress'));
      await storage.client.putObject(storage.bucket, `${options.prefix}tmp/crashed-upload`, Buffer.from('left over'));
      // Both are fresh: a replica starting now (stale after a day) leaves them alone...
      await new S3Storage({ ...options, staleTemporaryAfter: 24 * 3600_000 }).init();
      expect((await temporaries(storage, options.prefix)).sort()).to.deep.equal([`${options.prefix}tmp/crashed-upload`, `${options.prefix}tmp/live-upload`]);
      // ...and one starting a minute later, stale after 30 s, sweeps both (S3 dates have whole
      // seconds, and a real endpoint's clock may be a little off ours).
      const later = new ManualClock();
      later.advance(60_000);
      await new S3Storage({ ...options, staleTemporaryAfter: 30_000, clock: later }).init();
      expect(await temporaries(storage, options.prefix)).to.deep.equal([]);
    });

    it('keeps two prefixes in one bucket apart', async () => {
      const a = new S3Storage(s3.options(`a-${runId()}/`));
      const b = new S3Storage(s3.options(`b-${runId()}/`));
      await a.init();
      await b.init();
      const body = Buffer.from('only in a');
      const writer = await a.writer();
      await writer.write(body);
      await writer.commit({ digest: sha(body), size: body.length });
      expect(await b.stat(sha(body))).to.equal(undefined);
      const inB: string[] = [];
      for await (const blob of b.list()) inB.push(blob.digest);
      expect(inB).to.deep.equal([]);
      await a.delete(sha(body));
    });
  });
});
