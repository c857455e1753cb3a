import type { IncomingHttpHeaders } from 'node:http';
import type { CachedRoute } from '../../contract/index.js';
import type { MetadataStore, NewArtifactRecord } from '../../metadata/metadata.js';
import type { BlobInfo } from '../../storage/storage.js';
import type { Job } from '../job.js';
import { flightKey, type UpstreamMeta } from '../resolved.js';
import type { HotEntry, HotIndex } from '../lookup/hot-index.js';
import type { PurgeLog } from '../purge-log.js';
import type { Storage } from '../../storage/storage.js';
import type { Logger } from '../../util/logger.js';

/** Upstream response headers kept with an object and replayed on hits, unless a route says otherwise. */
export const DEFAULT_KEPT_HEADERS = ['content-type', 'content-encoding', 'content-disposition', 'content-language'] as const;

/** What is kept of an upstream response: the route's `keepHeaders` and the validators. */
export function keptMeta(headers: IncomingHttpHeaders, keep: readonly string[] = DEFAULT_KEPT_HEADERS): UpstreamMeta {
  const kept: Record<string, string> = {};
  for (const name of keep) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  const etag = typeof headers.etag === 'string' ? headers.etag : undefined;
  const lastModified = typeof headers['last-modified'] === 'string' ? headers['last-modified'] : undefined;
  return { contentType: kept['content-type'], headers: kept, etag, lastModified };
}

/**
 * The last step of a fill: the committed blob becomes the key's record in metadata (and under the
 * route's alias), and the hot index's entry, with the body when it was small enough to keep.
 */
export class Recorder {
  constructor(private readonly metadata: MetadataStore, private readonly hot: HotIndex,
    private readonly purges?: { readonly log: PurgeLog; readonly storage: Storage; readonly logger: Logger }) {}

  /**
   * Records the blob; `now` is when the upstream answered, where its freshness starts. A key
   * purged since `generation` (when the fill started) is not recorded: its clients had the body.
   */
  async record(job: Job, blob: BlobInfo, meta: UpstreamMeta, body: Buffer | undefined, now: number, generation?: number): Promise<HotEntry> {
    const record: NewArtifactRecord = {
      ...job.id, digest: blob.digest, size: blob.size, contentType: meta.contentType, headers: meta.headers,
      upstreamEtag: meta.etag, upstreamLastModified: meta.lastModified, class: job.cls.class, fetchedAt: now, checkedAt: now,
    };
    const entry: HotEntry = { record: { ...record, hits: 0, lastAccess: 0 }, checkedAt: now, body };
    if (this.purges && generation !== undefined && this.purges.log.purgedSince(generation, job.id)) {
      await this.dropPurged(record.digest);
      this.purges.logger.info({ remote: job.id.remote, key: job.id.key }, 'purged while its fill ran: served to its clients, not recorded');
      return entry;
    }
    await this.metadata.putArtifact(record);
    if (job.options.alias) await this.alias(record, job.options.alias(blob.digest));
    this.hot.set(job.key, entry);
    return entry;
  }

  /** The blob of a purged fill, deleted unless another record shares its bytes. */
  private async dropPurged(digest: string): Promise<void> {
    if (await this.metadata.countBlobReferences(digest) === 0) await this.purges!.storage.delete(digest);
  }

  /** Records a stored object under a second, content-named key (see `ServeOptions.alias`). */
  private async alias(record: NewArtifactRecord, alias: CachedRoute): Promise<void> {
    const id = { remote: record.remote, key: alias.key, variant: alias.variant ?? '' };
    if (id.key === record.key && id.variant === record.variant) return;
    this.hot.delete(flightKey(id));
    await this.metadata.putArtifact({ ...record, key: id.key, variant: id.variant, class: 'immutable' });
  }
}
