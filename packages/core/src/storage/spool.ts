import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { FilesystemStorage } from './filesystem/filesystem-storage.js';

/**
 * The local files concurrent clients of a fill follow when the real storage cannot be read before
 * commit (S3). Each process spools into its own `<dir>/<pid>` folder, since replicas on one host
 * may share the directory; folders of processes that no longer run are swept at start.
 */
export class ProcessSpool extends FilesystemStorage {
  constructor(private readonly dir: string) {
    super({ root: path.join(path.resolve(dir), String(process.pid)), fsync: false });
  }

  override async init(): Promise<void> {
    const entries = await readdir(path.resolve(this.dir)).catch(() => [] as string[]);
    for (const name of entries) {
      if (/^\d+$/.test(name) && Number(name) !== process.pid && !isRunning(Number(name))) {
        await rm(path.join(path.resolve(this.dir), name), { recursive: true, force: true });
      }
    }
    await super.init();
  }

  override async close(): Promise<void> {
    await rm(path.join(path.resolve(this.dir), String(process.pid)), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
