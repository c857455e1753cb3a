import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Entity } from '@cacheforge/core';

/**
 * Rewritten pages, ready to send: one per stored page version and public base URL, so a hit on
 * an index page costs a map lookup instead of a parse and a rewrite. Bounded by total bytes;
 * the least recently used page goes first.
 */
export class RewrittenCache {
  private readonly entries = new Map<string, Entity>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Entity | undefined {
    const entity = this.entries.get(key);
    if (entity) {
      // Re-inserted: a Map keeps insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, entity);
    }
    return entity;
  }

  set(key: string, entity: Entity): void {
    const size = entity.bytes?.length ?? 0;
    // One huge page (PyPI's project list) is rewritten again when asked rather than evict everything else.
    if (size > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) { this.entries.delete(key); this.bytes -= old.bytes?.length ?? 0; }
    this.entries.set(key, entity);
    this.bytes += size;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes?.length ?? 0;
    }
  }
}

/** What a rewritten page is served with. */
export interface PageHeaders {
  readonly contentType: string;
  readonly lastModified?: Date;
  /** Response headers besides the entity's own (lowercase names), such as `vary`. */
  readonly extra: Readonly<Record<string, string>>;
}

/** An in-memory entity for rewritten bytes, with the precomputed header block the server's hot path sends. */
export function bytesEntity(bytes: Buffer, headers: PageHeaders): Entity {
  const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
  const headerBlock: Record<string, string> = {
    ...headers.extra, 'content-type': headers.contentType, etag, 'accept-ranges': 'bytes',
    'x-cache-status': 'HIT', 'content-length': String(bytes.length),
  };
  if (headers.lastModified) headerBlock['last-modified'] = headers.lastModified.toUTCString();
  return {
    size: bytes.length, contentType: headers.contentType, etag, lastModified: headers.lastModified, bytes, headerBlock,
    open: async (range) => Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]),
  };
}
