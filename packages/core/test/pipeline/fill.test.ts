import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { FilesystemStorage } from '../../src/storage/filesystem/filesystem-storage.js';
import { Fill, type FillExpectations } from '../../src/pipeline/fill/fill.js';
import { waitFor } from '../../src/testing/wait.js';
import type { ExpectedDigest } from '../../src/contract/index.js';

function readAll(stream: Readable): Promise<{ data: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ data: Buffer.concat(chunks) }));
    stream.on('error', (error) => resolve({ data: Buffer.concat(chunks), error }));
  });
}

describe('Fill: verify before commit', () => {
  let root: string;
  let storage: FilesystemStorage;
  interface Over { size?: number; digest?: ExpectedDigest; maxSize?: number; tooLarge?: (n: number) => Error; keepInMemory?: number }
  const expect_ = ({ digest, maxSize = 0, tooLarge = () => new Error('too large'), ...over }: Over = {}): FillExpectations => ({
    keepInMemory: 0, describe: 'test', expectation: { digests: digest ? [digest] : [] },
    checkSize: (n) => { if (maxSize > 0 && n > maxSize) throw tooLarge(n); }, ...over,
  });

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'cf-fill-'));
    storage = new FilesystemStorage({ root, fsync: false });
    await storage.init();
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it('commits bytes whose sha512 matches what the format promised', async () => {
    const body = randomBytes(200_000);
    const hex = createHash('sha512').update(body).digest('hex');
    const fill = new Fill(Readable.from([body]), await storage.writer(), undefined, expect_({ size: body.length, digest: { algorithm: 'sha512', hex } }));
    const blob = await fill.done;
    expect(blob.digest).to.equal(createHash('sha256').update(body).digest('hex'));
    expect((await storage.read(blob.digest)).equals(body)).to.equal(true);
  });

  it('never commits, and never ends a reader cleanly, when the digest does not match', async () => {
    const body = randomBytes(200_000);
    const source = new PassThrough();
    const fill = new Fill(source, await storage.writer(), undefined, expect_({ size: body.length, digest: { algorithm: 'sha256', hex: '0'.repeat(64) } }));
    const reader = readAll(await fill.open());
    source.end(body);
    const { data, error } = await reader;
    expect(error?.message).to.match(/sha256 is [0-9a-f]{64}, expected 0{64}/);
    // The reader got every byte but the last: the body never looks complete.
    expect(data.length).to.equal(body.length - 1);
    await fill.done.catch(() => undefined);
    expect((error as { code?: string }).code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(await readdir(path.join(root, 'sha256'))).to.deep.equal([]);
    expect(await readdir(path.join(root, 'tmp'))).to.deep.equal([]);
  });

  it('holds back the end of a range until the whole body is verified', async () => {
    const body = randomBytes(100_000);
    const source = new PassThrough();
    const fill = new Fill(source, await storage.writer(), undefined, expect_({ size: body.length }));
    const ranged = await fill.open({ start: 0, end: 999 });
    const got: Buffer[] = [];
    let ended = false;
    ranged.on('data', (c: Buffer) => got.push(c));
    ranged.on('end', () => { ended = true; });
    source.write(body.subarray(0, 50_000));
    // Far more than the range has been written, yet its last byte waits for the verdict on the whole body.
    await waitFor('the first half of the body written', () => fill.flushed >= 50_000);
    await waitFor('all but the last byte of the range', () => Buffer.concat(got).length >= 999);
    expect(Buffer.concat(got).length).to.equal(999);
    expect(ended).to.equal(false);
    source.end(body.subarray(50_000));
    await fill.done;
    await waitFor('the range to end once the body is verified', () => ended);
    expect(Buffer.concat(got).equals(body.subarray(0, 1000))).to.equal(true);
  });

  it('refuses a body larger than the size limit while it streams, storing nothing', async () => {
    const fill = new Fill(Readable.from([randomBytes(5000), randomBytes(5000)]), await storage.writer(), undefined,
      expect_({ maxSize: 6000, tooLarge: (n: number) => Object.assign(new Error(`over: ${n}`), { code: 'CF_ERR_POLICY_TOO_LARGE' }) }));
    const error = await fill.done.then(() => undefined, (e: Error) => e);
    expect(error?.message).to.equal('over: 10000');
    expect(await readdir(path.join(root, 'tmp'))).to.deep.equal([]);
  });

  /** A large body in uneven pieces, with a pause between them. */
  async function feed(source: PassThrough, body: Buffer, until = body.length): Promise<void> {
    for (let at = 0, i = 0; at < until; i++) {
      const n = Math.min(until - at, 1000 + (i * 7919) % 90_000);
      if (!source.write(body.subarray(at, at + n))) await new Promise((r) => source.once('drain', r));
      at += n;
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  it('gives every reader of a large fill the exact bytes, caught up, lagging or ranged, and commits its sha256', async () => {
    const body = randomBytes(6 * 1024 * 1024 + 123);
    const source = new PassThrough();
    const fill = new Fill(source, await storage.writer(), undefined, expect_({ size: body.length }));
    const first = readAll(await fill.open());
    const ranged = readAll(await fill.open({ start: 100_001, end: 5_000_000 }));
    // A client that reads nothing until the body is in: it is served from the file, not from memory.
    const slow = await fill.open();
    slow.pause();
    const feeding = feed(source, body).then(() => source.end());
    await waitFor('a third of the body written', () => fill.flushed > 2 * 1024 * 1024);
    const late = readAll(await fill.open());
    await feeding;
    const blob = await fill.done;
    expect(blob.digest).to.equal(createHash('sha256').update(body).digest('hex'));
    const slowAll = readAll(slow);
    slow.resume();
    for (const [name, result, want] of [['first', await first, body], ['late', await late, body], ['slow', await slowAll, body],
      ['ranged', await ranged, body.subarray(100_001, 5_000_001)]] as const) {
      expect(result.error, name).to.equal(undefined);
      expect(result.data.equals(want), `${name}: ${result.data.length} bytes, want ${want.length}`).to.equal(true);
    }
  });

  it('refuses a large body whose sha256 does not match, its reader never complete and nothing stored', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const source = new PassThrough();
    const fill = new Fill(source, await storage.writer(), undefined, expect_({ size: body.length, digest: { algorithm: 'sha256', hex: 'f'.repeat(64) } }));
    const reader = readAll(await fill.open());
    await feed(source, body);
    source.end();
    const { data, error } = await reader;
    expect((error as { code?: string }).code).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    expect(error?.message).to.include(`sha256 is ${createHash('sha256').update(body).digest('hex')}`);
    // Whatever it got before the verdict is the body's own bytes, and never all of them.
    expect(data.length).to.be.below(body.length);
    expect(data.equals(body.subarray(0, data.length))).to.equal(true);
    await fill.done.catch(() => undefined);
    expect(await readdir(path.join(root, 'sha256'))).to.deep.equal([]);
    expect(await readdir(path.join(root, 'tmp'))).to.deep.equal([]);
  });

  it('keeps a small body in memory for the hot tier', async () => {
    const body = randomBytes(1000);
    const fill = new Fill(Readable.from([body]), await storage.writer(), undefined, expect_({ keepInMemory: 4096 }));
    await fill.done;
    expect(fill.memory?.equals(body)).to.equal(true);
  });
});
