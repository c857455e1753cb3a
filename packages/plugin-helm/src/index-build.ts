import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

// On zlib's thread pool: an index read on the event loop is not compressed on it.
const gzip = promisify(gzipCallback);
import type { IndexScan } from './index-listing.js';
import { parseIndex } from './index-parse.js';
import { scanIndex, UnsupportedShape } from './index-scan.js';
import { rewriteIndex } from './rewrite.js';
import type { ChartLocations } from './url-space.js';

/** One stored version of the index, read and rewritten: everything the remote keeps of it. */
export interface BuiltIndex {
  /** The index as clients get it: chart URLs pointing here, every other byte as stored. */
  readonly plain: Buffer;
  /** `plain`, gzip-compressed. */
  readonly gzip: Buffer;
  /** Each listed archive's absolute URL and the digest its entry gives (first entry wins). */
  readonly listed: ReadonlyMap<string, string | undefined>;
  /** Hosts of chart URLs left as they are because the remote may not fetch from them. */
  readonly blockedHosts: readonly string[];
  readonly figures: { readonly entries: number; readonly chars: number; readonly ms: number; readonly how: 'streamed' | 'parsed whole' };
}

/**
 * Reads an index (`body`, as stored) once: its entries, where its chart URLs are written, the
 * rewritten copy and its gzip. All of it synchronous work on a whole document (tens of MB for the
 * big public repositories), so the remote runs it in a worker thread (index-worker.ts), never on
 * the event loop that serves requests.
 */
export async function buildIndex(body: Buffer, locations: ChartLocations): Promise<BuiltIndex> {
  const started = performance.now();
  const text = body.toString('utf8');
  let scan: IndexScan;
  let how: BuiltIndex['figures']['how'] = 'streamed';
  try {
    scan = await scanIndex(text);
  } catch (err) {
    if (!(err instanceof UnsupportedShape)) throw err;
    // Rare shapes (aliases, flow-style entries): exact, but read in one piece.
    how = 'parsed whole';
    scan = parseIndex(text);
  }
  const listed = new Map<string, string | undefined>();
  for (const entry of scan.entries) {
    for (const url of entry.urls) {
      const absolute = locations.resolve(url);
      if (absolute !== undefined && !listed.has(absolute)) listed.set(absolute, entry.digest);
    }
  }
  const blocked = new Set<string>();
  const plain = await rewriteIndex(body, text, scan.spans, (value) => {
    const target = locations.rewrite(value);
    if (target === 'kept') return undefined;
    if ('path' in target) return target.path;
    blocked.add(target.blockedHost);
    return undefined;
  }) ?? body;
  const compressed = await gzip(plain);
  return { plain, gzip: compressed, listed, blockedHosts: [...blocked], figures: { entries: scan.entries.length, chars: text.length, ms: performance.now() - started, how } };
}
