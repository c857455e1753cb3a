import type { ArtifactRecord } from '../../metadata/metadata.js';

/** A record the process keeps at hand, with its freshness and, when small, its bytes. */
export interface HotEntry {
  record: ArtifactRecord;
  /** Unix ms of the last time the upstream confirmed this copy (fetch or 304): freshness starts here. */
  checkedAt: number;
  /** Last-Modified to send, parsed once. */
  lastModified?: Date;
  /** The response headers of a full answer, built once (see `Entity.headerBlock`). */
  headerBlock?: Record<string, string>;
  body?: Buffer;
}

/**
 * The in-process tier in front of metadata and storage: the records of recently served objects
 * and the bytes of small ones, least recently used first out. A hit on it costs no SQL query and
 * no disk read; it is only ever a copy of what metadata and storage hold.
 */
export class HotIndex {
  private readonly entries = new Map<string, HotEntry>();
  private bodyBytes = 0;

  constructor(private readonly maxBodyBytes: number, readonly maxObjectBytes: number, private readonly maxEntries = 100_000) {}

  get(key: string): HotEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Re-insert: Map order is the recency order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: HotEntry): void {
    this.delete(key);
    if (entry.body && (entry.body.length > this.maxObjectBytes || entry.body.length > this.maxBodyBytes)) entry = { ...entry, body: undefined };
    this.entries.set(key, entry);
    this.bodyBytes += entry.body?.length ?? 0;
    this.evict();
  }

  /** Attaches bytes to an entry already present (read lazily on a first hit). */
  attachBody(key: string, body: Buffer): void {
    const entry = this.entries.get(key);
    if (!entry || entry.body || body.length > this.maxObjectBytes || body.length > this.maxBodyBytes) return;
    entry.body = body;
    this.bodyBytes += body.length;
    this.evict();
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.bodyBytes -= old.body?.length ?? 0;
    this.entries.delete(key);
  }

  /** Bytes of bodies held. */
  get bytes(): number { return this.bodyBytes; }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.bodyBytes <= this.maxBodyBytes && this.entries.size <= this.maxEntries) return;
      if (this.entries.size > this.maxEntries) { this.delete(key); continue; }
      if (entry.body) { this.bodyBytes -= entry.body.length; entry.body = undefined; }
    }
  }
}
