import { cfError, hasCode } from '../../errors/errors.js';
import type { ArtifactId, MetadataStore } from '../../metadata/metadata.js';
import type { Storage } from '../../storage/storage.js';
import type { HotCache } from '../../cache/cache.js';
import type { Logger } from '../../util/logger.js';
import type { Clock } from '../../util/clock.js';
import type { Job } from '../job.js';
import type { Stored } from '../resolved.js';
import type { HotEntry, HotIndex } from './hot-index.js';
import type { AccessRecorder } from './access-recorder.js';

/** What the lookup reads: the process's hot index, then metadata and storage. */
export interface LookupServices {
  readonly hot: HotIndex;
  readonly metadata: MetadataStore;
  readonly storage: Storage;
  /** Where other replicas note a revalidation (`checked:<key>`). */
  readonly cache: HotCache;
  readonly access: AccessRecorder;
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * The first stage: what is stored for a key, and whether it may be served as it is. A record
 * counts only while its blob exists; a mutable one only within its TTL, here or on any replica.
 */
export class Lookup {
  constructor(private readonly s: LookupServices) {}

  /** The stored entry for the job: from the hot index, else metadata (whose blob must still exist). */
  async find(job: Job): Promise<HotEntry | undefined> {
    const { hot, metadata, storage } = this.s;
    const cached = hot.get(job.key);
    if (cached) {
      if (cached.body || cached.record.size <= hot.maxObjectBytes || await storage.stat(cached.record.digest)) return cached;
      return this.vanished(job.id, job.key, cached.record.digest, 'stored blob vanished; refetching');
    }
    const record = await metadata.getArtifact(job.id);
    if (!record) return undefined;
    if (!await storage.stat(record.digest)) return this.vanished(job.id, job.key, record.digest, 'metadata names a blob storage no longer has; refetching');
    const entry: HotEntry = { record, checkedAt: record.checkedAt };
    hot.set(job.key, entry);
    return entry;
  }

  /** Whether the entry is served without asking the upstream: immutable, or mutable and fresh. */
  async servable(job: Job, entry: HotEntry): Promise<boolean> {
    return job.cls.class === 'immutable' || this.isFresh(entry, job.key, job.cls.ttl);
  }

  /**
   * Serves a stored entry: counted, and its bytes kept in memory when small. Not async when there
   * is nothing to read: a hot hit pays no extra await.
   */
  hit(job: Job, entry: HotEntry): Stored | Promise<Stored> {
    this.s.access.record(job.id, job.key, this.s.clock.now());
    const stored: Stored = { kind: 'stored', entry, status: 'HIT' };
    if (entry.body || entry.record.size > this.s.hot.maxObjectBytes) return stored;
    return this.warm(entry, job.key).then(() => stored);
  }

  /** Looks again in metadata only (another replica may have just committed): for the key's lock holder. */
  async recheck(job: Job): Promise<Stored | undefined> {
    const record = await this.s.metadata.getArtifact(job.id);
    if (!record || !await this.s.storage.stat(record.digest)) return undefined;
    const entry: HotEntry = { record, checkedAt: record.checkedAt };
    if (!await this.servable(job, entry)) return undefined;
    this.s.hot.set(job.key, entry);
    await this.warm(entry, job.key);
    return { kind: 'stored', entry, status: 'HIT' };
  }

  /** Counts a serve of a stored copy a caller joined. */
  joined(id: ArtifactId, key: string): void {
    this.s.access.record(id, key, this.s.clock.now());
  }

  /** Reads a small blob into memory on its first hit, so later hits skip the disk. */
  async warm(entry: HotEntry, key: string): Promise<void> {
    const { hot, storage } = this.s;
    if (entry.body || entry.record.size > hot.maxObjectBytes) return;
    try {
      hot.attachBody(key, await storage.read(entry.record.digest));
    } catch (err) {
      if (!hasCode(err, 'CF_ERR_STORAGE_NOT_FOUND')) throw err;
      await this.forget(entry.record, key);
      throw cfError('CF_ERR_STORAGE_NOT_FOUND', `blob of ${entry.record.key} vanished from storage; the next request refetches it`, { cause: err });
    }
  }

  /** Drops a record from the hot index and metadata (its blob is gone, or the upstream says it is). */
  async forget(id: ArtifactId, key: string): Promise<void> {
    this.s.hot.delete(key);
    await this.s.metadata.deleteArtifact(id);
  }

  /** Whether a mutable entry is within its TTL, here or (per the shared cache) on another replica. */
  private async isFresh(entry: HotEntry, key: string, ttl: number): Promise<boolean> {
    const now = this.s.clock.now();
    if (entry.checkedAt + ttl > now) return true;
    try {
      const checkedAt = await this.s.cache.get<number>(`checked:${key}`);
      if (checkedAt !== undefined && checkedAt > entry.checkedAt) {
        entry.checkedAt = checkedAt;
        return checkedAt + ttl > now;
      }
    } catch (err) {
      this.s.log.warn({ err, key }, 'hot cache unavailable; revalidating instead');
    }
    return false;
  }

  private async vanished(id: ArtifactId, key: string, digest: string, message: string): Promise<undefined> {
    // Deleted by hand under us: forget the record and fetch the object again.
    this.s.log.warn({ remote: id.remote, key: id.key, digest }, message);
    await this.forget(id, key);
    return undefined;
  }
}
