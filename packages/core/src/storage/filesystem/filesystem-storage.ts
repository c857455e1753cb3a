import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, readFile, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { cfError } from '../../errors/errors.js';
import { SHA256_HEX, type BlobInfo, type BlobWriter, type ByteRange, type PartialReader, type Storage } from '../storage.js';

/** Options of {@link FilesystemStorage}. */
export interface FilesystemStorageOptions {
  /** Root folder; blobs live in `<root>/sha256/<2 hex>/<64 hex>`, temporaries in `<root>/tmp`. */
  readonly root: string;
  /** fsync a blob before it becomes visible, so a power loss cannot leave a torn blob. Default true. */
  readonly fsync?: boolean;
}

/** Read chunk for serving: large chunks keep big hits near disk speed. */
const READ_CHUNK = 1024 * 1024;

/**
 * Blobs as files. A write goes to `tmp/<uuid>` and is renamed to its digest path on commit, an
 * atomic step on one filesystem: a crash leaves either no blob or the whole blob, and `init`
 * sweeps orphaned temporaries.
 */
export class FilesystemStorage implements Storage {
  readonly name = 'filesystem';
  readonly capabilities = { readWhileWriting: true } as const;
  private readonly root: string;
  private readonly tmp: string;
  private readonly fsync: boolean;

  constructor(options: FilesystemStorageOptions) {
    this.root = path.resolve(options.root);
    this.tmp = path.join(this.root, 'tmp');
    this.fsync = options.fsync ?? true;
  }

  async init(): Promise<void> {
    try {
      await mkdir(path.join(this.root, 'sha256'), { recursive: true });
      await rm(this.tmp, { recursive: true, force: true });
      await mkdir(this.tmp, { recursive: true });
    } catch (err) {
      throw this.backendError('init', err);
    }
  }

  async writer(): Promise<BlobWriter> {
    const tempPath = path.join(this.tmp, randomUUID());
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx');
    } catch (err) {
      throw this.backendError('writer', err);
    }
    return new FilesystemWriter(handle, tempPath, (digest) => this.blobPath(digest), this.fsync, (op, err) => this.backendError(op, err));
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.blobPath(digest));
      return { digest, size: info.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.backendError('stat', err);
    }
  }

  async open(digest: string, range?: ByteRange): Promise<Readable> {
    const file = this.blobPath(digest);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw cfError('CF_ERR_STORAGE_NOT_FOUND', `blob ${digest} not in storage`, { op: 'storage.open' });
      throw this.backendError('open', err);
    }
    // NOTE: opening first (then streaming from the handle) turns a missing blob into a clean
    // error before any response header is written.
    return createReadStream(file, { fd: handle, start: range?.start, end: range?.end, highWaterMark: READ_CHUNK });
  }

  async openReader(digest: string): Promise<PartialReader> {
    try {
      return positionalReader(await open(this.blobPath(digest), 'r'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw cfError('CF_ERR_STORAGE_NOT_FOUND', `blob ${digest} not in storage`, { op: 'storage.openReader' });
      throw this.backendError('openReader', err);
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw cfError('CF_ERR_STORAGE_NOT_FOUND', `blob ${digest} not in storage`, { op: 'storage.read' });
      throw this.backendError('read', err);
    }
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await unlink(this.blobPath(digest));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.backendError('delete', err);
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    const base = path.join(this.root, 'sha256');
    let shards: string[];
    try {
      shards = await readdir(base);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.backendError('list', err);
    }
    for (const shard of shards.sort()) {
      for (const name of (await readdir(path.join(base, shard))).sort()) {
        if (!SHA256_HEX.test(name)) continue;
        const info = await stat(path.join(base, shard, name));
        yield { digest: name, size: info.size };
      }
    }
  }

  async ping(): Promise<void> {
    const probe = path.join(this.tmp, `.ping-${randomUUID()}`);
    try {
      const handle = await open(probe, 'wx');
      await handle.close();
      await unlink(probe);
    } catch (err) {
      throw this.backendError('ping', err);
    }
  }

  async close(): Promise<void> {}

  private blobPath(digest: string): string {
    if (!SHA256_HEX.test(digest)) throw cfError('CF_ERR_STORAGE_BACKEND', `invalid blob digest ${JSON.stringify(digest)}`, { op: 'storage.path' });
    return path.join(this.root, 'sha256', digest.slice(0, 2), digest);
  }

  private backendError(op: string, err: unknown) {
    return cfError('CF_ERR_STORAGE_BACKEND', `filesystem storage ${op} failed: ${(err as Error).message}`, { op: `storage.filesystem.${op}`, cause: err });
  }
}

class FilesystemWriter implements BlobWriter {
  bytesWritten = 0;
  private done = false;
  /** Where the bytes are now: the temp file, or the blob after commit. */
  private currentPath: string;
  /** The commit's rename, once it has started: `currentPath` is the blob's once it settles. */
  private renamed?: Promise<void>;

  constructor(
    private readonly handle: FileHandle,
    private readonly tempPath: string,
    private readonly finalPath: (digest: string) => string,
    private readonly fsync: boolean,
    private readonly fail: (op: string, err: unknown) => Error,
  ) {
    this.currentPath = tempPath;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.done) throw this.fail('write', new Error('writer already finished'));
    let offset = 0;
    try {
      while (offset < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.bytesWritten + offset);
        offset += bytesWritten;
      }
    } catch (err) {
      throw this.fail('write', err);
    }
    this.bytesWritten += chunk.length;
  }

  async openPartial(): Promise<PartialReader> {
    // NOTE: an fd opened on the temp file stays valid across the commit's rename, so readers that
    // started during the fill finish from the same inode; one opened after it follows the rename.
    let reader: FileHandle;
    try {
      reader = await open(this.currentPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fail('openPartial', err);
      // The temp file was renamed under us: once the rename has settled, the blob is where it went.
      // (A reader now opens right after verification, while the commit runs.)
      await this.renamed?.catch(() => undefined);
      reader = await open(this.currentPath, 'r').catch((again: unknown) => { throw this.fail('openPartial', again); });
    }
    return positionalReader(reader);
  }

  async commit(expected: BlobInfo): Promise<BlobInfo> {
    if (this.done) throw this.fail('commit', new Error('writer already finished'));
    if (!SHA256_HEX.test(expected.digest)) { await this.abort(); throw this.fail('commit', new Error(`invalid digest ${expected.digest}`)); }
    if (expected.size !== this.bytesWritten) {
      await this.abort();
      throw cfError('CF_ERR_STORAGE_VERIFY', `wrote ${this.bytesWritten} bytes, expected ${expected.size}`, { op: 'storage.commit' });
    }
    this.done = true;
    const target = this.finalPath(expected.digest);
    try {
      if (this.fsync) await this.handle.datasync();
      await this.handle.close();
      await mkdir(path.dirname(target), { recursive: true });
      this.renamed = rename(this.tempPath, target).then(() => { this.currentPath = target; });
      await this.renamed;
    } catch (err) {
      await rm(this.tempPath, { force: true }).catch(() => undefined);
      throw this.fail('commit', err);
    }
    return { digest: expected.digest, size: expected.size };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }
}

function positionalReader(handle: FileHandle): PartialReader {
  return {
    async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
      const buffer = into ?? Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}
