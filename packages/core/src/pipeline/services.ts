import type { Storage } from '../storage/storage.js';
import type { MetadataStore } from '../metadata/metadata.js';
import type { HotCache } from '../cache/cache.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import type { KeyLock } from './lock/key-lock.js';
import type { HotIndex } from './lookup/hot-index.js';
import type { AccessRecorder } from './lookup/access-recorder.js';
import type { Fill } from './fill/fill.js';
import type { Resolved } from './resolved.js';
import type { FillDirectory } from './replica/fill-directory.js';
import type { PurgeLog } from './purge-log.js';

/** What every remote's pipeline shares (one of each per process), chosen in the container. */
export interface PipelineServices {
  readonly storage: Storage;
  /** Local storage followers read from when `storage` cannot read back before commit. */
  readonly spool?: Storage;
  readonly metadata: MetadataStore;
  readonly cache: HotCache;
  /** One holder per key: the in-process single flight chained to the cluster lock. */
  readonly lock: KeyLock<Resolved>;
  readonly hot: HotIndex;
  readonly access: AccessRecorder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  /** Fills under way, each with a promise that settles once it is recorded (or has failed). */
  readonly fills: Map<Fill, Promise<unknown>>;
  /** The fills other replicas may stream from this one (`cluster.secret` set). */
  readonly replicaFills?: FillDirectory;
  /** The purges seen, so a fill for a key purged while it ran is not recorded (absent in some tests). */
  readonly purges?: PurgeLog;
}
