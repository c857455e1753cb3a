import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilesystemStorage } from '../../src/storage/filesystem/filesystem-storage.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function text(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('FilesystemStorage', () => {
  let root: string;
  let storage: FilesystemStorage;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'cf-fs-'));
    storage = new FilesystemStorage({ root });
    await storage.init();
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  async function put(body: Buffer) {
    const w = await storage.writer();
    await w.write(body);
    return w.commit({ digest: sha(body), size: body.length });
  }

  it('is invisible until commit, then readable whole and by range', async () => {
    const body = randomBytes(70_000);
    const w = await storage.writer();
    await w.write(body.subarray(0, 1000));
    expect(await storage.stat(sha(body))).to.equal(undefined);
    await w.write(body.subarray(1000));
    await w.commit({ digest: sha(body), size: body.length });
    expect(await storage.stat(sha(body))).to.deep.equal({ digest: sha(body), size: body.length });
    expect((await storage.read(sha(body))).equals(body)).to.equal(true);
    expect((await text(await storage.open(sha(body), { start: 100, end: 199 }))).equals(body.subarray(100, 200))).to.equal(true);
    const reader = await storage.openReader(sha(body));
    const into = Buffer.alloc(50);
    expect((await reader.read(69_990, 50, into)).equals(body.subarray(69_990))).to.equal(true);
    await reader.close();
  });

  it('stores an empty blob', async () => {
    const info = await put(Buffer.alloc(0));
    expect(info.size).to.equal(0);
    expect((await storage.read(info.digest)).length).to.equal(0);
  });

  it('answers CF_ERR_STORAGE_NOT_FOUND for a missing blob and refuses a malformed digest', async () => {
    const missing = 'a'.repeat(64);
    for (const op of [() => storage.open(missing), () => storage.read(missing), () => storage.openReader(missing)]) {
      const err = await op().then(() => undefined, (e: { code?: string }) => e);
      expect(err?.code).to.equal('CF_ERR_STORAGE_NOT_FOUND');
    }
    const bad = await storage.open('../../etc/passwd').then(() => undefined, (e: { code?: string }) => e);
    expect(bad?.code).to.equal('CF_ERR_STORAGE_BACKEND');
  });

  it('aborts a write without a trace, and refuses a commit whose size is wrong', async () => {
    const w = await storage.writer();
    await w.write(randomBytes(10));
    await w.abort();
    const v = await storage.writer();
    await v.write(randomBytes(10));
    const err = await v.commit({ digest: 'b'.repeat(64), size: 11 }).then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).to.equal('CF_ERR_STORAGE_VERIFY');
    expect(await readdir(path.join(root, 'tmp'))).to.deep.equal([]);
    expect(await readdir(path.join(root, 'sha256'))).to.deep.equal([]);
  });

  it('lets a reader follow a write across its commit', async () => {
    const body = randomBytes(5000);
    const w = await storage.writer();
    await w.write(body.subarray(0, 2000));
    const partial = await w.openPartial!();
    expect((await partial.read(0, 2000)).equals(body.subarray(0, 2000))).to.equal(true);
    await w.write(body.subarray(2000));
    await w.commit({ digest: sha(body), size: body.length });
    expect((await partial.read(2000, 3000)).equals(body.subarray(2000))).to.equal(true);
    await partial.close();
  });

  it('lists, deletes, and sweeps temporaries left by a crash on init', async () => {
    const a = await put(Buffer.from('a'));
    const b = await put(Buffer.from('b'));
    const listed: string[] = [];
    for await (const info of storage.list()) listed.push(info.digest);
    expect(listed.sort()).to.deep.equal([a.digest, b.digest].sort());
    expect(await storage.delete(a.digest)).to.equal(true);
    expect(await storage.delete(a.digest)).to.equal(false);
    await mkdir(path.join(root, 'tmp'), { recursive: true });
    await writeFile(path.join(root, 'tmp', 'half-written'), 'xx');
    await new FilesystemStorage({ root }).init();
    expect(await readdir(path.join(root, 'tmp'))).to.deep.equal([]);
    expect(await storage.stat(b.digest)).to.not.equal(undefined);
  });
});
