import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProcessSpool } from '../../src/storage/spool.js';

describe('ProcessSpool', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-spool-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('spools in a folder of its own process, sweeps those of processes that died, and keeps those of live ones', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      for (const pid of [dead.pid!, live.pid!]) {
        await mkdir(path.join(dir, String(pid), 'tmp'), { recursive: true });
        await writeFile(path.join(dir, String(pid), 'tmp', 'fill'), 'bytes of a fill');
      }
      const spool = new ProcessSpool(dir);
      await spool.init();
      expect((await readdir(dir)).sort()).to.deep.equal([String(live.pid), String(process.pid)].sort());
      const writer = await spool.writer();
      await writer.write(Buffer.from('abc'));
      expect(await readdir(path.join(dir, String(process.pid), 'tmp'))).to.have.length(1);
      await writer.abort();
      await spool.close();
      expect(await readdir(dir)).to.deep.equal([String(live.pid)]);
    } finally {
      live.kill('SIGKILL');
    }
  });
});
