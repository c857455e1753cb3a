import type { CacheForgeConfig } from '../config/config.js';
import type { RemoteRegistry } from '../plugin/remote-registry.js';
import type { Storage } from '../storage/storage.js';
import type { MetadataStore } from '../metadata/metadata.js';
import type { ManagementStore } from '../metadata/management.js';
import type { HotCache } from '../cache/cache.js';
import type { Metrics } from '../metrics/metrics.js';
import type { UpstreamState } from '../upstream/health.js';
import type { RequestAuth } from '../auth/request-auth.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { UpstreamActivity } from '../metrics/upstream-activity.js';
import type { Purger } from './purge/purger.js';
import type { StatsRecorder } from './stats/stats-recorder.js';
import type { RuntimeRemotes } from './remotes/runtime-remotes.js';

/** What the management API's routes read and act on, one per process. */
export interface ApiServices {
  readonly config: CacheForgeConfig;
  readonly registry: RemoteRegistry;
  readonly storage: Storage;
  readonly metadata: MetadataStore;
  readonly management: ManagementStore;
  readonly cache: HotCache;
  readonly metrics: Metrics;
  readonly auth: RequestAuth;
  readonly purger: Purger;
  readonly stats: StatsRecorder;
  /** The remotes added through the API (PUT/DELETE /remotes/{name}). */
  readonly runtime: RuntimeRemotes;
  readonly activity: UpstreamActivity;
  /** Every upstream host's reachability, per remote. */
  readonly upstreams: () => UpstreamState[];
  /** The plugins loaded: format name → package. */
  readonly plugins: ReadonlyMap<string, { readonly specifier: string; readonly version?: string }>;
  readonly startedAt: number;
  readonly clock: Clock;
  readonly log: Logger;
}
