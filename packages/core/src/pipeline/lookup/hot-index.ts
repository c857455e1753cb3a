import { Lru } from '../../util/lru.js';
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
  // Past the byte budget the least recent entries lose their bodies first: a record without bytes still saves a query.
  private readonly entries: Lru<string, HotEntry>;

  constructor(private readonly maxBodyBytes: number, readonly maxObjectBytes: number, maxEntries = 100_000) {
    this.entries = new Lru({
      maxBytes: maxBodyBytes, maxEntries, sizeOf: (entry) => entry.body?.length ?? 0,
      shed: (entry) => { entry.body = undefined; return entry; },
    });
  }

  get(key: string): HotEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: HotEntry): void {
    if (entry.body && !this.fits(entry.body)) entry = { ...entry, body: undefined };
    this.entries.set(key, entry);
  }

  /** Attaches bytes to an entry already present (read lazily on a first hit). */
  attachBody(key: string, body: Buffer): void {
    const entry = this.entries.peek(key);
    if (!entry || entry.body || !this.fits(body)) return;
    entry.body = body;
    this.entries.update(key, entry);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key matches (a purge); returns how many. */
  deleteWhere(matches: (key: string) => boolean): number {
    let n = 0;
    for (const key of this.entries.keys()) if (matches(key) && this.entries.delete(key)) n += 1;
    return n;
  }

  /** Bytes of bodies held. */
  get bytes(): number { return this.entries.bytes; }

  private fits(body: Buffer): boolean {
    return body.length <= this.maxObjectBytes && body.length <= this.maxBodyBytes;
  }
}
