import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, readFile, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SHA256_HEX, type BlobInfo, type BlobWriter, type ByteRange, type PartialReader, type Storage } from '../storage.js';
import { backendFailure, blobNotFound, checkedDigest } from '../blob-errors.js';
import { GuardedWriter, type WriteSteps } from '../guarded-writer.js';
import { positionalReader } from '../positional-reader.js';

/** Options of {@link FilesystemStorage}. */
export interface FilesystemStorageOptions {
  /** Root folder; blobs live in `<root>/sha256/<2 hex>/<64 hex>`, temporaries in `<root>/tmp`. */
  readonly root: string;
  /** fsync a blob before it becomes visible, so a power loss cannot leave a torn blob. Default true. */
  readonly fsync?: boolean;
  /**
   * The folder of this process's temporaries, swept by `init` (default `<root>/tmp`). Worker
   * processes each get one of their own below it, so a worker starting never sweeps another's fill.
   */
  readonly temporaries?: string;
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
    this.tmp = options.temporaries ? path.resolve(options.temporaries) : path.join(this.root, 'tmp');
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
    const steps = new FileWriteSteps(handle, tempPath, (digest) => this.blobPath(digest), this.fsync);
    return new GuardedWriter(steps, (op, err) => this.backendError(op, err));
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
      throw this.readError('open', digest, err);
    }
    // NOTE: opening first (then streaming from the handle) turns a missing blob into a clean
    // error before any response header is written.
    return createReadStream(file, { fd: handle, start: range?.start, end: range?.end, highWaterMark: READ_CHUNK });
  }

  async openReader(digest: string): Promise<PartialReader> {
    try {
      return positionalReader(await open(this.blobPath(digest), 'r'));
    } catch (err) {
      throw this.readError('openReader', digest, err);
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      throw this.readError('read', digest, err);
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
    const name = checkedDigest(digest);
    return path.join(this.root, 'sha256', name.slice(0, 2), name);
  }

  private readError(op: string, digest: string, err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? blobNotFound(digest, op) : this.backendError(op, err);
  }

  private backendError(op: string, err: unknown) {
    return backendFailure('filesystem', op, err);
  }
}

/** The filesystem's write steps: a temp file, renamed to its digest path on publish. */
class FileWriteSteps implements WriteSteps {
  get localPath(): string { return this.tempPath; }
  /** Where the bytes are now: the temp file, or the blob after commit. */
  private currentPath: string;
  /** The commit's rename, once it has started: `currentPath` is the blob's once it settles. */
  private renamed?: Promise<void>;

  constructor(
    private readonly handle: FileHandle,
    private readonly tempPath: string,
    private readonly finalPath: (digest: string) => string,
    private readonly fsync: boolean,
  ) {
    this.currentPath = tempPath;
  }

  async write(chunk: Buffer, position: number): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, position + offset);
      offset += bytesWritten;
    }
  }

  async openPartial(): Promise<PartialReader> {
    // NOTE: an fd opened on the temp file stays valid across the commit's rename, so readers that
    // started during the fill finish from the same inode; one opened after it follows the rename.
    try {
      return positionalReader(await open(this.currentPath, 'r'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The temp file was renamed under us: once the rename has settled, the blob is where it went.
      // (A reader now opens right after verification, while the commit runs.)
      await this.renamed?.catch(() => undefined);
      return positionalReader(await open(this.currentPath, 'r'));
    }
  }

  async publish(blob: BlobInfo): Promise<void> {
    const target = this.finalPath(blob.digest);
    if (this.fsync) await this.handle.datasync();
    await this.handle.close();
    await mkdir(path.dirname(target), { recursive: true });
    this.renamed = rename(this.tempPath, target).then(() => { this.currentPath = target; });
    await this.renamed;
  }

  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }
}
