import { cfError, hasCode, isCacheForgeError } from '../../errors/errors.js';
import type { ArtifactResponse, CacheStatus, Entity } from '../../contract/index.js';
import type { Storage } from '../../storage/storage.js';
import type { Job } from '../job.js';
import type { Lookup } from '../lookup/lookup.js';
import type { HotEntry } from '../lookup/hot-index.js';
import type { Revalidation } from '../revalidate.js';
import { fillStatus, flightKey, latest, withCacheStatus, type Filling, type Resolved, type Stored } from '../resolved.js';

/**
 * The last stage: a servable key as the answer to one request. A small miss is held until its
 * bytes are verified (so a mismatch is a clean 502, or the retry's good bytes, never a body cut
 * short); a fill that fails while it replaces a stale copy answers with that copy.
 */
export class Responder {
  constructor(
    private readonly storage: Storage,
    private readonly lookup: Lookup,
    private readonly revalidation: Revalidation,
    /** Bodies at most this large are verified before their first byte is sent (0 = never). */
    private readonly verifyBeforeSend: number,
  ) {}

  /** Answers a GET (or a HEAD that filled) from what the lookup, lock and fill made of the key. */
  async serve(job: Job, resolved: Resolved, method: 'GET' | 'HEAD'): Promise<ArtifactResponse> {
    if (resolved.kind === 'stored') return this.stored(resolved);
    if (method === 'HEAD') {
      // A HEAD that fills answers once the object is recorded (with its alias), so the request
      // that follows it (a GET, often by digest) finds it stored.
      if (job.options.fillOnHead) return this.stored(await this.recorded(job, resolved));
      return this.filling(resolved, fillStatus(resolved.fill));
    }
    const cacheStatus = fillStatus(resolved.fill);
    let current: Resolved = resolved;
    try {
      current = await this.verifiedIfSmall(resolved);
    } catch (err) {
      // A new version whose download broke: the copy it was to replace is still good.
      if (!resolved.stale) throw withCacheStatus(err, 'MISS');
      return this.stored(this.revalidation.fallback(err, job, resolved.stale));
    }
    return current.kind === 'stored' ? this.stored(current) : this.filling(current, current === resolved ? cacheStatus : 'MISS');
  }

  /** The stored copy a fill ends in: its (or its retry's) record, or the stale copy it replaced. */
  async recorded(job: Job, resolved: Filling): Promise<Stored> {
    const status = fillStatus(resolved.fill);
    try {
      return { kind: 'stored', entry: await resolved.recorded, status };
    } catch (err) {
      if (!resolved.stale) throw err;
      return this.revalidation.fallback(err, job, resolved.stale);
    }
  }

  /**
   * Waits, for a body no larger than `verifyBeforeSend`, until it is verified: pip with urllib3
   * 1.26 takes a body cut one byte short as whole. A larger body streams at once. After a
   * mismatch, the retry's fill is the answer.
   */
  private async verifiedIfSmall(resolved: Filling): Promise<Resolved> {
    const limit = this.verifyBeforeSend;
    const size = resolved.fill.expect.size;
    if (limit <= 0 || (size !== undefined && size > limit)) return resolved;
    try {
      await resolved.fill.verifiedOrPast(limit);
      return resolved;
    } catch (err) {
      const next = await latest(resolved);
      if (next === resolved || next.kind !== 'fill') throw isCacheForgeError(err) ? err : cfError('CF_ERR_UPSTREAM_UNAVAILABLE', String(err), { cause: err });
      return this.verifiedIfSmall(next);
    }
  }

  /** A stored copy as an entity the server answers ranges, conditions and HEAD from. */
  stored(resolved: Stored): ArtifactResponse {
    const { entry, status } = resolved;
    const record = entry.record;
    const storage = this.storage;
    const forget = (err: unknown): never => {
      // The blob went away under us (deleted by hand): drop the record so the next request refetches.
      if (hasCode(err, 'CF_ERR_STORAGE_NOT_FOUND')) void this.lookup.forget(record, flightKey(record)).catch(() => undefined);
      throw err;
    };
    const lastModified = entry.lastModified ??= lastModifiedOf(entry);
    const entity: Entity = {
      size: record.size, contentType: record.contentType, etag: `"${record.digest}"`, lastModified,
      bytes: entry.body,
      headerBlock: entry.body ? entry.headerBlock ??= {
        ...record.headers, 'content-type': record.contentType ?? 'application/octet-stream', etag: `"${record.digest}"`,
        'last-modified': lastModified.toUTCString(), 'accept-ranges': 'bytes', 'X-Cache-Status': 'HIT', 'content-length': String(entry.body.length),
      } : undefined,
      open: (range) => storage.open(record.digest, range).catch(forget),
      openReader: () => storage.openReader(record.digest).catch(forget),
      locate: storage.locate && !entry.body ? () => storage.locate!(record.digest) : undefined,
    };
    return { status: 200, cacheStatus: status, headers: record.headers, entity };
  }

  /** A fill under way as an entity whose readers follow the bytes as they land. */
  private filling(resolved: Filling, cacheStatus: CacheStatus): ArtifactResponse {
    const { fill, meta } = resolved;
    const entity: Entity = {
      size: fill.size, contentType: meta.contentType, etag: fill.digest ? `"${fill.digest}"` : undefined,
      lastModified: meta.lastModified ? new Date(meta.lastModified) : undefined,
      open: (range) => fill.open(range),
    };
    // A client that joins a verified fill is served a stored copy: count it like one.
    if (cacheStatus === 'HIT') resolved.recorded.then((entry) => this.lookup.joined(entry.record, flightKey(entry.record)), () => undefined);
    return { status: 200, cacheStatus, headers: meta.headers, entity };
  }
}

/** The Last-Modified a stored copy answers with: the upstream's, else when it was fetched. */
export function lastModifiedOf(entry: HotEntry): Date {
  const upstream = entry.record.upstreamLastModified ? new Date(entry.record.upstreamLastModified) : undefined;
  return upstream && !Number.isNaN(upstream.getTime()) ? upstream : new Date(entry.record.fetchedAt);
}
