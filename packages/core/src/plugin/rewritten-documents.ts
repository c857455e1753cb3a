import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Entity } from '../contract/index.js';

/** How a document held in memory is served. */
export interface MemoryDocumentMeta {
  readonly contentType: string;
  /** Strong validator (quoted). Default: derived from the bytes. */
  readonly etag?: string;
  readonly lastModified?: Date;
  /** Response headers besides the entity's own (lowercase names), such as `vary`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A document held whole in memory (one a plugin rewrote, say), as an entity with the precomputed
 * header block that lets the server answer a plain GET of it without building headers.
 */
export function memoryEntity(bytes: Buffer, meta: MemoryDocumentMeta): Entity {
  const etag = meta.etag ?? `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
  const headerBlock: Record<string, string> = {
    ...meta.headers, 'content-type': meta.contentType, etag, 'accept-ranges': 'bytes',
    'X-Cache-Status': 'HIT', 'content-length': String(bytes.length),
  };
  if (meta.lastModified) headerBlock['last-modified'] = meta.lastModified.toUTCString();
  return {
    size: bytes.length, contentType: meta.contentType, etag, lastModified: meta.lastModified, bytes, headerBlock,
    open: async (range) => Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]),
  };
}

/**
 * Documents a format rewrites on the way out (package documents whose links must point back at
 * the base URL each client used), kept ready to send: a hit on one is a map lookup, where a
 * rewrite of a large document costs milliseconds. Keys should name the stored version and the
 * base, so a revalidation that brings new bytes, or another host name, misses. Bounded by total
 * bytes, least recently used first out.
 */
export class RewrittenDocuments {
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

  /** Keeps `entity` (held in memory) under `key`, unless it alone would take a quarter of the budget. */
  set(key: string, entity: Entity): void {
    const size = entity.bytes?.length ?? 0;
    // One huge document (PyPI's project list) is rewritten again when asked rather than evict everything else.
    if (size > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) { this.entries.delete(key); this.bytes -= old.bytes?.length ?? 0; }
    this.entries.set(key, entity);
    this.bytes += size;
    for (const [oldest, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= e.bytes?.length ?? 0;
    }
  }
}
