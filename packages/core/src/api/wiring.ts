import type { DependencyContainer } from 'tsyringe';
import { TOKENS } from '../container.js';
import type { CacheForgeConfig } from '../config/config.js';
import type { LoadedPlugin } from '../config/plugin-source.js';
import type { RemoteRegistry } from '../plugin/remote-registry.js';
import type { Storage } from '../storage/storage.js';
import type { MetadataStore } from '../metadata/metadata.js';
import type { ManagementStore } from '../metadata/management.js';
import type { HotCache } from '../cache/cache.js';
import type { Metrics } from '../metrics/metrics.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { Authenticator } from '../auth/authenticator.js';
import { RequestAuth } from '../auth/request-auth.js';
import { GrantSigner } from '../auth/bearer-grant.js';
import type { UpstreamActivity } from '../metrics/upstream-activity.js';
import { managementApi, type ManagementApi } from './api.js';
import type { PurgeBus } from '../cache/purge-bus.js';
import type { PipelineServices } from '../pipeline/services.js';
import { Purger } from './purge/purger.js';
import { StatsRecorder } from './stats/stats-recorder.js';
import type { Middleware } from 'koa';
import { mountRemote } from '../container.js';
import { RuntimeRemotes } from './remotes/runtime-remotes.js';

/** The management side of one process: the API, the request checks, and what must be closed at stop. */
export interface Management {
  readonly api: ManagementApi;
  readonly auth: RequestAuth;
  /** Counts what each remote served, for the statistics. */
  readonly recordStats: Middleware;
  /** Mounts the runtime remotes the metadata store holds, then follows their changes. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Puts the management API together from the process's container. */
export function createManagement(c: DependencyContainer): Management {
  const config = c.resolve<CacheForgeConfig>(TOKENS.Config);
  const log = c.resolve<Logger>(TOKENS.Logger).child({ component: 'api' });
  const clock = c.resolve<Clock>(TOKENS.Clock);
  const store = c.resolve<ManagementStore>(TOKENS.Management);
  const authenticator = new Authenticator(config.auth, store.tokens, clock, log, config.metadata.flushInterval);
  const auth = new RequestAuth(config.auth, authenticator, new GrantSigner(config.cluster.secret));
  const clients = c.resolve<Map<string, UpstreamClient>>(TOKENS.UpstreamClients);
  const plugins = c.resolve<ReadonlyMap<string, LoadedPlugin>>(TOKENS.Plugins);
  const storage = c.resolve<Storage>(TOKENS.Storage);
  const bus = c.resolve<PurgeBus>(TOKENS.PurgeBus);
  const metrics = c.resolve<Metrics>(TOKENS.Metrics);
  const stats = new StatsRecorder(store.stats, metrics, clock, log, config.metadata.flushInterval);
  const pipeline = c.resolve<PipelineServices>(TOKENS.PipelineServices);
  const purger = new Purger(store.catalogue, storage, pipeline.hot, bus, log, pipeline.purges);
  const registry = c.resolve<RemoteRegistry>(TOKENS.Registry);
  const runtime = new RuntimeRemotes({
    config, plugins, store: store.remotes, registry, bus, clock, log: log.child({ component: 'remotes' }),
    mount: (remote, plugin) => mountRemote(c, remote, plugin),
    unmounted: (name) => { clients.get(name)?.close(); clients.delete(name); },
  });
  const api = managementApi({
    config, log, clock, auth, management: store, purger, stats, runtime, registry,
    storage,
    metadata: c.resolve<MetadataStore>(TOKENS.Metadata),
    cache: c.resolve<HotCache>(TOKENS.Cache),
    metrics,
    activity: c.resolve<UpstreamActivity>(TOKENS.UpstreamActivity),
    upstreams: () => [...clients.values()].flatMap((client) => client.states()),
    plugins: new Map([...plugins].map(([format, p]) => [format, { specifier: p.specifier }])),
    startedAt: clock.now(),
  });
  return {
    api, auth, recordStats: stats.middleware(),
    start: () => runtime.start(),
    async close() { runtime.close(); await authenticator.close(); await stats.close(); await bus.close(); },
  };
}
