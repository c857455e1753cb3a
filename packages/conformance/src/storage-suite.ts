import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobInfo, Storage } from '@cacheforge/core';
import { GeneratedBytes } from './generated-bytes.js';
import { expectCode, settle } from './expect.js';

/** How a storage implementation is put under the kit. */
export interface StorageSuiteOptions {
  /** A fresh, empty backend (its own folder, bucket prefix, ...); the kit calls `init` itself. */
  create(): Promise<Storage>;
  /** Whatever a backend keeps besides committed blobs (temporaries, unfinished uploads): must be empty between operations. */
  residue?(storage: Storage): Promise<string[]>;
  /** Tears the backend down after the suite (remove its folder, ...). */
  destroy?(storage: Storage): Promise<void>;
  /**
   * Size of the multi-GiB stream check, in bytes. Default 2.25 GiB (past the 2^31 boundary where
   * 32-bit offsets break); the env variable `CF_CONFORMANCE_LARGE_BYTES` overrides it; 0 skips it.
   */
  largeBytes?: number;
  /** Throughput below which the large check fails, in MiB/s (it bounds the test's time). Default 8. */
  minMiBps?: number;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) { hash.update(chunk as Buffer); size += (chunk as Buffer).length; }
  return { sha256: hash.digest('hex'), size };
}

async function listed(storage: Storage): Promise<BlobInfo[]> {
  const all: BlobInfo[] = [];
  for await (const info of storage.list()) all.push(info);
  return all.sort((a, b) => a.digest.localeCompare(b.digest));
}

/** Two different bodies whose digests share their first `chars` hex characters (same shard, same key prefix). */
function sharedPrefixPair(chars: number): [Buffer, Buffer] {
  const seen = new Map<string, Buffer>();
  for (let i = 0; i < 200_000; i++) {
    const body = Buffer.from(`shared-prefix-${i}`);
    const prefix = sha(body).slice(0, chars);
    const other = seen.get(prefix);
    if (other) return [other, body];
    seen.set(prefix, body);
  }
  throw new Error('no digest pair found');
}

/**
 * The storage contract (see `Storage` in @cacheforge/core): content-addressed, two-phase writes,
 * not-found answers, ranges, concurrent readers, aborts that leave nothing, multi-GiB streams.
 * Call inside a test file: `storageSuite('S3Storage', { create: ... })`.
 */
export function storageSuite(name: string, options: StorageSuiteOptions): void {
  describe(`${name}: storage conformance`, function () {
    let storage: Storage;
    const residue = async () => (options.residue ? options.residue(storage) : []);

    async function put(body: Buffer): Promise<BlobInfo> {
      const writer = await storage.writer();
      if (body.length > 0) await writer.write(body);
      return writer.commit({ digest: sha(body), size: body.length });
    }

    before(async function () {
      this.timeout(60_000);
      storage = await options.create();
      await storage.init();
      await storage.init(); // idempotent
    });
    after(async function () {
      this.timeout(60_000);
      if (!storage) return;
      await storage.close();
      await options.destroy?.(storage);
    });

    it('answers not-found for a blob it does not hold, and refuses a malformed digest', async () => {
      const missing = 'a'.repeat(64);
      expect(await storage.stat(missing)).to.equal(undefined);
      const reads: (() => Promise<unknown>)[] = [() => storage.open(missing), () => storage.open(missing, { start: 0, end: 0 }), () => storage.read(missing), () => storage.openReader(missing)];
      for (const op of reads) {
        expectCode(await settle(op()), 'CF_ERR_STORAGE_NOT_FOUND');
      }
      expect(await storage.delete(missing)).to.equal(false);
      for (const bad of ['../../etc/passwd', 'A'.repeat(64), 'a'.repeat(63), '']) {
        const outcome = await settle(storage.stat(bad));
        expect(outcome.ok, `stat(${JSON.stringify(bad)}) must fail`).to.equal(false);
      }
    });

    it('keeps a write invisible until commit, then serves it whole, by range and by position', async () => {
      const body = randomBytes(300_000);
      const writer = await storage.writer();
      await writer.write(body.subarray(0, 100_000));
      expect(await storage.stat(sha(body))).to.equal(undefined);
      await writer.write(body.subarray(100_000));
      expect(writer.bytesWritten).to.equal(body.length);
      expect(await storage.stat(sha(body))).to.equal(undefined);
      expect(await writer.commit({ digest: sha(body), size: body.length })).to.deep.equal({ digest: sha(body), size: body.length });
      expect(await storage.stat(sha(body))).to.deep.equal({ digest: sha(body), size: body.length });
      expect((await storage.read(sha(body))).equals(body)).to.equal(true);
      expect((await drain(await storage.open(sha(body)))).equals(body)).to.equal(true);
      for (const [start, end] of [[0, 0], [1, 1], [12_345, 54_321], [body.length - 1, body.length - 1], [0, body.length - 1]] as const) {
        const got = await drain(await storage.open(sha(body), { start, end }));
        expect(got.equals(body.subarray(start, end + 1)), `range ${start}-${end}`).to.equal(true);
      }
      const reader = await storage.openReader(sha(body));
      try {
        const into = Buffer.alloc(64 * 1024);
        expect((await reader.read(0, 1000)).equals(body.subarray(0, 1000))).to.equal(true);
        expect((await reader.read(1000, 64 * 1024, into)).equals(body.subarray(1000, 1000 + 64 * 1024))).to.equal(true);
        expect((await reader.read(250_000, 1000)).equals(body.subarray(250_000, 251_000))).to.equal(true);
        expect((await reader.read(5, 10)).equals(body.subarray(5, 15))).to.equal(true); // backwards
        expect((await reader.read(body.length - 10, 1000)).equals(body.subarray(body.length - 10))).to.equal(true); // short at the end
        expect((await reader.read(body.length, 10)).length).to.equal(0);
      } finally {
        await reader.close();
      }
      const fresh = await storage.openReader(sha(body));
      try {
        expect((await fresh.read(body.length, 10)).length, 'a first read at the end').to.equal(0);
      } finally {
        await fresh.close();
      }
      expect(await residue()).to.deep.equal([]);
    });

    it('stores an empty blob', async () => {
      const info = await put(Buffer.alloc(0));
      expect(info).to.deep.equal({ digest: sha(Buffer.alloc(0)), size: 0 });
      expect(await storage.stat(info.digest)).to.deep.equal(info);
      expect((await storage.read(info.digest)).length).to.equal(0);
      expect((await drain(await storage.open(info.digest))).length).to.equal(0);
    });

    it('keeps blobs whose digests share a prefix apart', async () => {
      const [a, b] = sharedPrefixPair(3);
      expect(sha(a).slice(0, 3)).to.equal(sha(b).slice(0, 3));
      await put(a);
      expect(await storage.stat(sha(b))).to.equal(undefined);
      await put(b);
      expect((await storage.read(sha(a))).equals(a)).to.equal(true);
      expect((await storage.read(sha(b))).equals(b)).to.equal(true);
      expect(await storage.delete(sha(a))).to.equal(true);
      expect((await storage.read(sha(b))).equals(b)).to.equal(true);
      expect(await storage.delete(sha(b))).to.equal(true);
    });

    it('serves concurrent readers of one blob, whole and by range, each its own bytes', async () => {
      const body = randomBytes(2 * 1024 * 1024 + 17);
      await put(body);
      const reads = Array.from({ length: 12 }, async (_, i) => {
        if (i % 3 === 0) return (await drain(await storage.open(sha(body)))).equals(body);
        const start = i * 1000;
        const end = body.length - 1 - i * 999;
        if (i % 3 === 1) return (await drain(await storage.open(sha(body), { start, end }))).equals(body.subarray(start, end + 1));
        const reader = await storage.openReader(sha(body));
        try {
          return (await reader.read(start, 100_000)).equals(body.subarray(start, start + 100_000));
        } finally {
          await reader.close();
        }
      });
      expect(await Promise.all(reads)).to.deep.equal(Array(12).fill(true));
    });

    it('leaves nothing behind for an aborted write or a commit of the wrong size', async () => {
      const before = await listed(storage);
      const body = randomBytes(50_000);
      const aborted = await storage.writer();
      await aborted.write(body);
      await aborted.abort();
      await aborted.abort(); // idempotent
      expect(await storage.stat(sha(body))).to.equal(undefined);
      const wrong = await storage.writer();
      await wrong.write(body);
      expectCode(await settle(wrong.commit({ digest: sha(body), size: body.length + 1 })), 'CF_ERR_STORAGE_VERIFY');
      await wrong.abort(); // safe after a failed commit
      expect(await storage.stat(sha(body))).to.equal(undefined);
      const unused = await storage.writer();
      await unused.abort();
      expect(await listed(storage)).to.deep.equal(before);
      expect(await residue()).to.deep.equal([]);
    });

    it('keeps one blob when the same bytes are committed twice, and deletes idempotently', async () => {
      const body = Buffer.from('same bytes, two writers');
      const [one, two] = await Promise.all([put(body), put(body)]);
      expect(one).to.deep.equal(two);
      expect((await listed(storage)).filter((b) => b.digest === sha(body))).to.have.length(1);
      expect(await storage.delete(sha(body))).to.equal(true);
      expect(await storage.delete(sha(body))).to.equal(false);
      expect(await storage.stat(sha(body))).to.equal(undefined);
      expect(await residue()).to.deep.equal([]);
    });

    it('lists every committed blob with its size', async () => {
      const bodies = [Buffer.from('list-1'), Buffer.from('list-22'), Buffer.from('list-333')];
      for (const body of bodies) await put(body);
      const all = await listed(storage);
      for (const body of bodies) expect(all).to.deep.include({ digest: sha(body), size: body.length });
      for (const body of bodies) await storage.delete(sha(body));
    });

    it('lets a writer read back what it wrote before commit when it declares readWhileWriting', async () => {
      // Not declaring it is allowed (the pipeline then spools); declaring it is a promise checked here.
      if (!storage.capabilities.readWhileWriting) return;
      const body = randomBytes(100_000);
      const writer = await storage.writer();
      expect(writer.openPartial, 'readWhileWriting needs openPartial').to.be.a('function');
      await writer.write(body.subarray(0, 40_000));
      const partial = await writer.openPartial!();
      try {
        expect((await partial.read(0, 40_000)).equals(body.subarray(0, 40_000))).to.equal(true);
        await writer.write(body.subarray(40_000));
        await writer.commit({ digest: sha(body), size: body.length });
        expect((await partial.read(40_000, 60_000)).equals(body.subarray(40_000))).to.equal(true);
      } finally {
        await partial.close();
      }
    });

    it('answers ping', async () => {
      await storage.ping();
    });

    const envSize = process.env.CF_CONFORMANCE_LARGE_BYTES;
    const size = envSize !== undefined ? Number(envSize) : options.largeBytes ?? Math.floor(2.25 * 1024 ** 3);
    if (size > 0) it(`streams a ${(size / 1024 ** 3).toFixed(2)} GiB blob in and out without holding it in memory`, async function () {
      const minMiBps = options.minMiBps ?? 8;
      // Write, then read twice (whole and a range across the 2^31 boundary): bounded by a floor throughput.
      this.timeout(Math.ceil((3 * size) / (minMiBps * 1024 * 1024)) * 1000 + 30_000);
      const bytes = new GeneratedBytes(size, 7);
      const writer = await storage.writer();
      const hash = createHash('sha256');
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      for (const chunk of bytes.chunks(1024 * 1024)) {
        hash.update(chunk);
        await writer.write(chunk);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      const digest = hash.digest('hex');
      await writer.commit({ digest, size });
      expect(await storage.stat(digest)).to.deep.equal({ digest, size });
      const whole = await hashStream(await storage.open(digest));
      expect(whole).to.deep.equal({ sha256: digest, size });
      const start = Math.min(size - 1, 2 ** 31 - 1000);
      const end = Math.min(size - 1, start + 3 * 1024 * 1024);
      const range = await drain(await storage.open(digest, { start, end }));
      expect(range.equals(bytes.slice(start, end + 1)), 'range across 2 GiB').to.equal(true);
      // The body never sat in memory: the writer's growth stays far below the blob's size.
      expect(rssPeak - rssBefore).to.be.below(Math.min(size / 4, 512 * 1024 * 1024));
      expect(await storage.delete(digest)).to.equal(true);
    });

    it('is clean once everything it stored is deleted', async () => {
      for (const blob of await listed(storage)) await storage.delete(blob.digest);
      expect(await listed(storage)).to.deep.equal([]);
      expect(await residue()).to.deep.equal([]);
    });
  });
}
