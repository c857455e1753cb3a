import type { CachedRoute, ServeOptions, UpstreamRequest } from '../contract/index.js';
import type { ArtifactId } from '../metadata/metadata.js';
import type { Classification } from '../policy/policy.js';
import type { HotEntry } from './lookup/hot-index.js';
import { flightKey } from './resolved.js';

/** One request for one cached route, as every stage sees it. */
export class Job {
  readonly id: ArtifactId;
  /** {@link flightKey} of `id`. */
  readonly key: string;
  /** The stored copy being revalidated, once the lookup found one that is no longer fresh. */
  stale?: HotEntry;

  constructor(remote: string, route: CachedRoute, readonly cls: Classification, readonly upstream: UpstreamRequest, readonly options: ServeOptions) {
    this.id = { remote, key: route.key, variant: route.variant ?? '' };
    this.key = flightKey(this.id);
  }

  /** The path for logs and errors. */
  get path(): string {
    return this.id.key;
  }
}
