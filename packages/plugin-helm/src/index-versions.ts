import type { Logger } from '@cacheforge/core';
import type { ChartEntry, IndexScan } from './index-listing.js';
import { parseIndex } from './index-parse.js';
import { scanIndex, UnsupportedShape } from './index-scan.js';
import type { ChartLocations } from './url-space.js';

/** An index read once: where its URLs are written, and its entries by the absolute URL of each archive. */
export interface PreparedIndex {
  readonly scan: IndexScan;
  readonly byUrl: ReadonlyMap<string, ChartEntry>;
}

/** Stored versions of the index kept read (the current one, and one being replaced). */
const KEPT = 3;

/**
 * The remote's index, read once per stored version (named by its ETag) however many requests
 * need it at once: the rewrite of the index for clients and the digest look-ups of chart fills
 * share one read.
 */
export class IndexVersions {
  private readonly done = new Map<string, PreparedIndex>();
  private readonly running = new Map<string, Promise<PreparedIndex>>();

  constructor(private readonly locations: ChartLocations, private readonly log: Logger) {}

  /** The version named `etag`, when it has been read. */
  get(etag: string): PreparedIndex | undefined {
    return this.done.get(etagKey(etag));
  }

  /** Reads `text`, the stored version named `etag` (undefined: a version not kept, read just for this answer). */
  prepare(etag: string | undefined, text: string): Promise<PreparedIndex> {
    const key = etag === undefined ? undefined : etagKey(etag);
    const known = key === undefined ? undefined : this.done.get(key) ?? this.running.get(key);
    if (known) return Promise.resolve(known);
    const reading = this.read(text);
    if (key === undefined) return reading;
    this.running.set(key, reading);
    reading.then((prepared) => {
      this.done.delete(key);
      this.done.set(key, prepared);
      while (this.done.size > KEPT) this.done.delete(this.done.keys().next().value!);
    }, () => undefined).finally(() => this.running.delete(key));
    return reading;
  }

  private async read(text: string): Promise<PreparedIndex> {
    const started = performance.now();
    let scan: IndexScan;
    let how = 'streamed';
    try {
      scan = await scanIndex(text);
    } catch (err) {
      if (!(err instanceof UnsupportedShape)) throw err;
      // Rare shapes (aliases, flow-style entries): exact, but read in one piece.
      how = 'parsed whole';
      this.log.info({ reason: err.message, chars: text.length }, 'index.yaml has a shape the streaming reader does not follow; parsing it whole');
      scan = parseIndex(text);
    }
    const byUrl = new Map<string, ChartEntry>();
    for (const [i, entry] of scan.entries.entries()) {
      if (i % 4096 === 4095) await new Promise((resolve) => setImmediate(resolve));
      for (const url of entry.urls) {
        const absolute = this.locations.resolve(url);
        if (absolute !== undefined && !byUrl.has(absolute)) byUrl.set(absolute, entry);
      }
    }
    this.log.info({ entries: scan.entries.length, chars: text.length, ms: Math.round(performance.now() - started), how }, 'index.yaml read');
    return { scan, byUrl };
  }
}

/** ETags name stored versions in two spellings (quoted, weak): one key for both. */
export function etagKey(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}
