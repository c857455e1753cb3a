import type { Readable } from 'node:stream';
import type { PartialReader } from '../contract/partial-reader.js';

export type { PartialReader } from '../contract/partial-reader.js';

/**
 * Storage: a content-addressed blob store. Blobs are named by the lowercase hex sha256 of their
 * bytes, so the same bytes reached through two remotes are stored once, and no request path can
 * name a storage location. Writes are two-phase: bytes go to a temporary object that becomes
 * visible under its digest only on {@link BlobWriter.commit}; `stat`/`open` therefore only ever see
 * complete, verified blobs.
 */
export interface Storage {
  /** Backend name for logs and errors (`filesystem`, `s3`). */
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /** Prepares the backend (folders, bucket) and removes temporaries a crash left behind. Idempotent. */
  init(): Promise<void>;
  /** Starts a write. Nothing is visible until `commit`. */
  writer(): Promise<BlobWriter>;
  /** Size of a committed blob; `undefined` when absent. */
  stat(digest: string): Promise<BlobInfo | undefined>;
  /**
   * Streams a committed blob, or bytes `[start, end]` (inclusive) of it.
   * @throws CF_ERR_STORAGE_NOT_FOUND when absent.
   */
  open(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * Opens positional reads over a committed blob (the fast path for large responses: the caller
   * reads into buffers it reuses). @throws CF_ERR_STORAGE_NOT_FOUND when absent.
   */
  openReader(digest: string): Promise<PartialReader>;
  /** Reads a whole committed blob into memory. @throws CF_ERR_STORAGE_NOT_FOUND when absent. */
  read(digest: string): Promise<Buffer>;
  /** Deletes a blob; true when it existed. Idempotent. */
  delete(digest: string): Promise<boolean>;
  /** Every committed blob, in no particular order. */
  list(): AsyncIterable<BlobInfo>;
  /**
   * A time-limited URL clients can fetch a committed blob from directly, defined only when the
   * backend is configured to redirect hits there.
   */
  locate?(digest: string): Promise<string | undefined>;
  /** Resolves when the backend is reachable and writable (for `/-/ready`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Optional features a backend declares; the pipeline has one fallback for each. */
export interface StorageCapabilities {
  /** A writer can read back what it has written before commit (lets waiters stream a fill). */
  readonly readWhileWriting: boolean;
}

/** Inclusive byte range. */
export interface ByteRange { readonly start: number; readonly end: number }

/** A committed blob. */
export interface BlobInfo {
  /** Lowercase hex sha256 of the bytes. */
  readonly digest: string;
  /** Bytes. */
  readonly size: number;
}

/** One two-phase write. Exactly one of `commit` or `abort` must be called. */
export interface BlobWriter {
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
  /** Appends bytes; resolves once they can be read back (`openPartial`). */
  write(chunk: Buffer): Promise<void>;
  /** A reader over the bytes written so far (capability `readWhileWriting`); stays valid after commit. */
  openPartial?(): Promise<PartialReader>;
  /**
   * Makes the bytes visible under `expected.digest`. The caller computed the digest while writing;
   * the backend checks the size. If the blob already exists the new copy is dropped (same bytes).
   * @throws CF_ERR_STORAGE_VERIFY when the size differs; the write is aborted.
   */
  commit(expected: BlobInfo): Promise<BlobInfo>;
  /** Discards everything written. Idempotent; safe after a failed commit. */
  abort(): Promise<void>;
}

/** A digest as storage accepts it. */
export const SHA256_HEX = /^[a-f0-9]{64}$/;
