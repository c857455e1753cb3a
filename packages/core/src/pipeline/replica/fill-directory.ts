import { randomUUID } from 'node:crypto';
import type { HotCache } from '../../cache/cache.js';
import type { Logger } from '../../util/logger.js';
import type { Filling } from '../resolved.js';
import { sourceKey, type FillSource } from './fill-source.js';

/**
 * The winner's side of streaming across replicas: the fills this replica runs under the cluster
 * lock, each under a random id, and the record (beside the key's lock in the hot cache) that tells
 * the losers where to stream it from. A fill stays listed until it is recorded or has failed for
 * good, so a loser that lost its stream can ask whether this replica is still there.
 */
export class FillDirectory {
  private readonly fills = new Map<string, Filling>();

  constructor(private readonly cache: HotCache, private readonly advertise: () => string | undefined, private readonly ttl: number,
    private readonly log: Logger) {}

  /** The fill listed under `id`. */
  get(id: string): Filling | undefined {
    return this.fills.get(id);
  }

  /** Lists a fill (and the retry that follows a verification failure) and advertises it while it runs. */
  publish(key: string, filling: Filling): void {
    const url = this.advertise();
    if (!url) return;
    const id = randomUUID();
    this.fills.set(id, filling);
    const source: FillSource = { url, id };
    void this.cache.set(sourceKey(key), source, this.ttl).catch((err: unknown) => {
      this.log.debug({ reason: (err as Error).message }, 'fill source not advertised; other replicas wait for the commit');
    });
    filling.retry.then((next) => { if (next) this.publish(key, next); }, () => undefined);
    filling.recorded.catch(() => undefined).finally(() => {
      this.fills.delete(id);
      void this.cache.delete(sourceKey(key)).catch(() => undefined);
    });
  }
}
