import { HotIndex, type HotEntry } from '../pipeline/lookup/hot-index.js';
import type { WorkerChannel } from './worker-channel.js';

/**
 * The hot index of one worker, kept coherent with the other workers': each entry set here (a
 * commit, a record read from metadata) or dropped (a purge, a vanished blob) is announced, and an
 * announcement from another worker drops an entry here that names other bytes, or moves its
 * freshness forward when it names the same ones. A record read from metadata names what every
 * worker already has, so announcements settle instead of bouncing between workers.
 */
export class SharedHotIndex extends HotIndex {
  constructor(private readonly channel: WorkerChannel, maxBodyBytes: number, maxObjectBytes: number) {
    super(maxBodyBytes, maxObjectBytes);
    channel.onHot = (key, digest, checkedAt) => this.apply(key, digest, checkedAt);
  }

  override set(key: string, entry: HotEntry): void {
    super.set(key, entry);
    this.channel.post({ cf: 1, t: 'hot', key, digest: entry.record.digest, checkedAt: entry.checkedAt });
  }

  override delete(key: string): void {
    super.delete(key);
    this.channel.post({ cf: 1, t: 'hot', key });
  }

  /** What another worker did to `key`. */
  private apply(key: string, digest: string | undefined, checkedAt: number | undefined): void {
    const local = super.get(key);
    if (!local) return;
    if (digest === undefined || local.record.digest !== digest) super.delete(key);
    else if (checkedAt !== undefined && checkedAt > local.checkedAt) local.checkedAt = checkedAt;
  }
}
