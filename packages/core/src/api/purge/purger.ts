import type { ArtifactCatalogue, PurgeTarget } from '../../metadata/management.js';
import type { Storage } from '../../storage/storage.js';
import type { HotIndex } from '../../pipeline/lookup/hot-index.js';
import { purgedBy, type PurgeBus, type PurgeEvent } from '../../cache/purge-bus.js';
import type { Logger } from '../../util/logger.js';
import type { PurgeLog } from '../../pipeline/purge-log.js';

/** What one purge removed. */
export interface PurgeResult {
  /** Metadata rows (artifacts × variants). */
  readonly artifacts: number;
  /** Blobs deleted from storage because no row referenced them any more. */
  readonly blobs: number;
  readonly bytesFreed: number;
}

/**
 * Purge and flush: the rows go first (in one transaction), so nothing new is served from them;
 * then every process's hot index drops the keys (this one at once, the others through the bus);
 * then each blob no row references any more is deleted from storage, freeing its space at once.
 */
export class Purger {
  constructor(private readonly catalogue: ArtifactCatalogue, private readonly storage: Storage, private readonly hot: HotIndex,
    private readonly bus: PurgeBus, private readonly log: Logger, private readonly purges?: PurgeLog) {
    bus.subscribe((event) => {
      if (event.kind === 'remotes') return;
      // Another replica's or worker's purge: a fill running here for those keys must not record them.
      this.purges?.note(event);
      const dropped = this.hot.deleteWhere(purgedBy(event));
      if (dropped > 0) this.log.debug({ ...event, dropped }, 'hot index dropped purged entries');
    });
  }

  async purge(target: PurgeTarget): Promise<PurgeResult> {
    const event: PurgeEvent = 'key' in target ? { remote: target.remote, key: target.key } : 'prefix' in target ? { remote: target.remote, prefix: target.prefix } : { remote: target.remote };
    // Noted before the rows go, so a fill committing in between is not recorded after them.
    this.purges?.note(event);
    const rows = await this.catalogue.purge(target);
    this.hot.deleteWhere(purgedBy(event));
    await this.bus.publish(event).catch((err: unknown) => {
      this.log.warn({ err, ...event }, 'could not tell the other replicas of a purge: their hot index may serve the purged bytes until it drops them');
    });
    const sizes = new Map(rows.map((r) => [r.digest, r.size]));
    let blobs = 0;
    let bytesFreed = 0;
    for (const digest of await this.catalogue.unreferenced([...sizes.keys()])) {
      if (await this.storage.delete(digest)) { blobs += 1; bytesFreed += sizes.get(digest)!; }
    }
    this.log.info({ ...event, artifacts: rows.length, blobs, bytesFreed }, 'purged');
    return { artifacts: rows.length, blobs, bytesFreed };
  }
}
