import type { Logger } from '@cacheforge/core';
import type { BuiltIndex } from './index-build.js';
import { readIndex, type JobSettings } from './index-job.js';

/** Each listed archive's absolute URL and the digest its index entry gives. */
export type ListedCharts = ReadonlyMap<string, string | undefined>;

/** Stored versions whose listed archives are kept (the current one, and one being replaced). */
const KEPT = 3;

/** Where the bytes of a stored version come from (opened only when a read starts). */
export type IndexSource = () => Promise<Buffer | AsyncIterable<Buffer>>;

/**
 * The remote's index, read once per stored version (named by its ETag) however many requests
 * need it at once, in a worker thread: the rewrite for clients and the digest look-ups of chart
 * fills share one read. What is kept of a read version is its listed archives; the rewritten
 * copies go to the served-index cache.
 */
export class IndexVersions {
  private readonly done = new Map<string, ListedCharts>();
  private readonly running = new Map<string, Promise<BuiltIndex>>();
  private readonly warnedHosts = new Set<string>();

  constructor(
    private readonly settings: Omit<JobSettings, 'batch'>,
    private readonly limits: { readonly maxBytes: number; readonly heapMb: number },
    private readonly log: Logger,
  ) {}

  /** The archives listed by the version named `etag`, when it has been read. */
  get(etag: string): ListedCharts | undefined {
    return this.done.get(etagKey(etag));
  }

  /** Reads the stored version named `etag` (undefined: a version not kept, read just for this answer). */
  read(etag: string | undefined, source: IndexSource): Promise<BuiltIndex> {
    const key = etag === undefined ? undefined : etagKey(etag);
    const known = key === undefined ? undefined : this.running.get(key);
    if (known) return known;
    const reading = this.start(source);
    if (key === undefined) return reading;
    this.running.set(key, reading);
    reading.then((built) => {
      this.done.delete(key);
      this.done.set(key, built.listed);
      while (this.done.size > KEPT) this.done.delete(this.done.keys().next().value!);
    }, () => undefined).finally(() => this.running.delete(key));
    return reading;
  }

  private async start(source: IndexSource): Promise<BuiltIndex> {
    const started = performance.now();
    const built = await readIndex(await source(), this.settings, this.limits);
    const { entries, chars, how } = built.figures;
    if (how === 'parsed whole') this.log.info({ remote: this.settings.remote, chars }, 'index.yaml has a shape the streaming reader does not follow (aliases, flow-style entries); it was parsed whole');
    this.log.info({ remote: this.settings.remote, entries, chars, ms: Math.round(performance.now() - started), workerMs: Math.round(built.figures.ms), how }, 'index.yaml read');
    for (const host of built.blockedHosts) {
      if (this.warnedHosts.has(host)) continue;
      this.warnedHosts.add(host);
      this.log.warn({ remote: this.settings.remote, host },
        `index.yaml lists charts on ${host}, which this remote may not fetch from: their URLs are left pointing there (clients fetch them directly, uncached); add "${host}" to remotes.${this.settings.remote}.allowedHosts to cache them`);
    }
    return built;
  }
}

/** ETags name stored versions in two spellings (quoted, weak): one key for both. */
export function etagKey(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}
