import type { Logger } from '../util/logger.js';
import type { ArtifactRequest, CachedRoute, PassthroughRoute, Route } from './request.js';
import type { ArtifactResponse, Pipeline } from './pipeline.js';
import type { UpstreamAuth } from './upstream-auth.js';
import type { PluginStore } from './plugin-store.js';
import type { LearnedHosts } from './learned-hosts.js';
import type { PluginMetrics } from '../metrics/plugin-metrics.js';

/** Services a plugin's handler gets at creation: narrow on purpose, no DI container. */
export interface PluginContext {
  /** The process's logger, with `plugin` (the format's name) and `remote` on every line. */
  readonly log: Logger;
  /**
   * Disposable key/value state with expiry, in the (possibly shared) hot cache, namespaced to this
   * remote. The core always sets it; it is optional only so unit tests can make handlers without one.
   */
  readonly store?: PluginStore;
  /**
   * Counters, gauges and histograms on the core's `/-/metrics`, named `cacheforge_<format>_<name>`
   * and labelled with this remote. The core always sets it; optional only for unit tests, as `store`.
   */
  readonly metrics?: PluginMetrics;
  /** Hosts this remote may also fetch from, learned from its upstream's documents. Always set by the core; optional for unit tests. */
  readonly learnedHosts?: LearnedHosts;
  /** Who may read this remote: `anonymousRead` false means every artifact read carries a token (cargo's `auth-required`). Always set by the core; optional for unit tests. */
  readonly access?: { readonly anonymousRead: boolean };
}

/** Per-request services handed to {@link Handler.fetch}. */
export interface FetchContext {
  readonly pipeline: Pipeline;
  readonly log: Logger;
}

/** One remote's request handler, made by {@link FormatPlugin.createHandler}. */
export interface Handler {
  /**
   * Classifies a request; `undefined` when it is outside the format's URL space (the core answers
   * 404). Pure and synchronous: no I/O, no state.
   */
  canHandle(req: ArtifactRequest): Route | undefined;
  /** Answers a request `canHandle` classified as cached or passthrough. */
  fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse>;
  /** How the remote's upstream client authenticates (token flows); absent: only the remote's `headers`. */
  readonly upstreamAuth?: UpstreamAuth;
}

