import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Entity } from '../contract/index.js';
import { Lru } from '../util/lru.js';

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
  private readonly entries: Lru<string, Entity>;

  constructor(private readonly maxBytes: number) {
    this.entries = new Lru({ maxBytes, sizeOf: (entity) => entity.bytes?.length ?? 0 });
  }

  get(key: string): Entity | undefined {
    return this.entries.get(key);
  }

  /** Keeps `entity` (held in memory) under `key`, unless it alone would take a quarter of the budget. */
  set(key: string, entity: Entity): void {
    // One huge document (PyPI's project list) is rewritten again when asked rather than evict everything else.
    if ((entity.bytes?.length ?? 0) > this.maxBytes / 4) return;
    this.entries.set(key, entity);
  }
}
