import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilesystemStorage } from '../../src/storage/filesystem/filesystem-storage.js';
import { storageSuite } from '../../../conformance/src/index.js';

const roots = new Map<FilesystemStorage, string>();
storageSuite('FilesystemStorage', {
  async create() {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-fs-kit-'));
    const storage = new FilesystemStorage({ root: dir });
    roots.set(storage, dir);
    return storage;
  },
  residue: async (storage) => readdir(path.join(roots.get(storage as FilesystemStorage)!, 'tmp')),
  destroy: async (storage) => rm(roots.get(storage as FilesystemStorage)!, { recursive: true, force: true }),
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('FilesystemStorage specifics', () => {
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
