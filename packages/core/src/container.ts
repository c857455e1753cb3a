import 'reflect-metadata';
import path from 'node:path';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { CacheForgeConfig, RemoteConfig } from './config/config.js';
import type { LoadedPlugin } from './config/plugin-source.js';
import type { Logger } from './util/logger.js';
import type { Storage } from './storage/storage.js';
import type { MetadataStore } from './metadata/metadata.js';
import type { HotCache } from './cache/cache.js';
import { FilesystemStorage } from './storage/filesystem/filesystem-storage.js';
import { KnexMetadataStore } from './metadata/knex/knex-metadata-store.js';
import { KnexManagementStore } from './metadata/knex/knex-management-store.js';
import type { ManagementStore } from './metadata/management.js';
import { UpstreamActivity } from './metrics/upstream-activity.js';
import { LocalPurgeBus, type PurgeBus } from './cache/purge-bus.js';
import { IpcPurgeBus } from './workers/ipc-purge-bus.js';
import { RedisPurgeBus } from './cache/redis/redis-purge-bus.js';
import { KeyvCache } from './cache/keyv/keyv-cache.js';
import { S3Storage } from './storage/s3/s3-storage.js';
import { ProcessSpool } from './storage/spool.js';
import { replicaSharing } from './pipeline/replica/replica-wiring.js';
import { RedisCache } from './cache/redis/redis-cache.js';
import { MeasuredStorage } from './storage/measured-storage.js';
import { MeasuredMetadataStore } from './metadata/measured-metadata.js';
import { MeasuredCache } from './cache/measured-cache.js';
import { ClusterLock } from './pipeline/lock/cluster-lock.js';
import { SingleFlight } from './pipeline/lock/single-flight.js';
import { Metrics } from './metrics/metrics.js';
import { HotIndex } from './pipeline/lookup/hot-index.js';
import { PurgeLog } from './pipeline/purge-log.js';
import { AccessRecorder } from './pipeline/lookup/access-recorder.js';
import { RemotePipeline } from './pipeline/remote-pipeline.js';
import type { PipelineServices } from './pipeline/services.js';
import type { Resolved } from './pipeline/resolved.js';
import type { Fill } from './pipeline/fill/fill.js';
import { systemClock, type Clock } from './util/clock.js';
import { RemotePolicy } from './policy/policy.js';
import { UpstreamClient } from './upstream/client.js';
import type { UpstreamObserver } from './metrics/upstream-observer.js';
import { SelfIdentity } from './net/self.js';
import { RemoteRegistry, type MountedRemote } from './plugin/remote-registry.js';
import { withPluginHosts } from './plugin/plugin-hosts.js';
import { remoteDefinition } from './plugin/remote-definition.js';
import { cfError, hasCode } from './errors/errors.js';
import { NamespacedStore } from './plugin/plugin-store.js';
import type { Handler, PluginContext, RemoteDefinition } from './contract/index.js';
import type { WorkerChannel } from './workers/worker-channel.js';
import { IpcCache } from './workers/ipc-cache.js';
import { SharedHotIndex } from './workers/shared-hot-index.js';
import { WorkerLock } from './workers/worker-lock.js';
import { workerTemporaries } from './workers/primary.js';

/** Injection tokens. Only this file chooses implementations; everything else asks by token. */
export const TOKENS = {
  Config: Symbol.for('cacheforge.Config'),
  Plugins: Symbol.for('cacheforge.Plugins'),
  Logger: Symbol.for('cacheforge.Logger'),
  Storage: Symbol.for('cacheforge.Storage'),
  Metadata: Symbol.for('cacheforge.Metadata'),
  Cache: Symbol.for('cacheforge.Cache'),
  Metrics: Symbol.for('cacheforge.Metrics'),
  PipelineServices: Symbol.for('cacheforge.PipelineServices'),
  Registry: Symbol.for('cacheforge.Registry'),
  UpstreamClients: Symbol.for('cacheforge.UpstreamClients'),
  Identity: Symbol.for('cacheforge.Identity'),
  Clock: Symbol.for('cacheforge.Clock'),
  /** The management API's store (tokens, folder listings, purges, statistics) over the metadata store's pool. */
  Management: Symbol.for('cacheforge.Management'),
  /** Each remote's recent upstream outcomes, for the API. */
  UpstreamActivity: Symbol.for('cacheforge.UpstreamActivity'),
  /** Carries purges to every process's hot index (Redis pub/sub in scale-out). */
  PurgeBus: Symbol.for('cacheforge.PurgeBus'),
} as const;

/** What a process may be given instead of the defaults (tests move time with their own clock). */
export interface ContainerOptions {
  readonly clock?: Clock;
  /** Set in a worker process of `server.workers`: its channel to the supervising primary. */
  readonly worker?: WorkerChannel;
}

/**
 * Wires one process: picks the storage, metadata and cache implementations the config names, and
 * mounts every remote with its plugin's handler, policy, upstream client and pipeline.
 */
export function createContainer(config: CacheForgeConfig, plugins: ReadonlyMap<string, LoadedPlugin>, log: Logger,
  options: ContainerOptions = {}): DependencyContainer {
  const clock = options.clock ?? systemClock;
  const c = rootContainer.createChildContainer();
  c.register(TOKENS.Config, { useValue: config });
  c.register(TOKENS.Plugins, { useValue: plugins });
  c.register(TOKENS.Logger, { useValue: log });
  const metrics = new Metrics();
  c.register(TOKENS.Metrics, { useValue: metrics });
  const worker = options.worker;
  if (worker) {
    // /-/metrics reports the instance: the primary sums every worker's registry.
    metrics.exposition = () => worker.request<string>({ op: 'metrics' });
    worker.onMetricsCollect = () => metrics.registry.getMetricsAsJSON();
  }
  // The server records the port it actually bound; the clients read it from here. Workers share the primary's id (the loop guard).
  const identity = new SelfIdentity([{ host: config.server.host, port: config.server.port }], worker?.instanceId);
  c.register(TOKENS.Identity, { useValue: identity });
  c.register(TOKENS.Clock, { useValue: clock });
  const activity = new UpstreamActivity(clock);
  c.register(TOKENS.UpstreamActivity, { useValue: activity });
  registerBackends(c, config, metrics, clock, worker);
  c.register<PipelineServices>(TOKENS.PipelineServices, {
    useFactory: instanceCachingFactory((d) => pipelineServices(d, config, metrics, log, clock, worker)),
  });
  c.register<Map<string, UpstreamClient>>(TOKENS.UpstreamClients, { useValue: new Map() });
  c.register<RemoteRegistry>(TOKENS.Registry, {
    useFactory: instanceCachingFactory((d) => {
      const services = d.resolve<PipelineServices>(TOKENS.PipelineServices);
      const clients = d.resolve<Map<string, UpstreamClient>>(TOKENS.UpstreamClients);
      const registry = new RemoteRegistry();
      for (const configured of Object.values(config.remotes)) {
        const loaded = plugins.get(configured.type);
        if (!loaded) throw cfError('CF_ERR_CONFIG_INVALID', `remote ${configured.name}: no plugin for type ${configured.type}`);
        registry.add(mountRemote(d, configured, loaded));
      }
      return registry;
    }),
  });
  return c;
}

/**
 * One remote with its plugin's handler, policy, upstream client and pipeline: at the start for the
 * config file's remotes, and later for the remotes the management API adds (RuntimeRemotes).
 */
export function mountRemote(d: DependencyContainer, configured: RemoteConfig, loaded: LoadedPlugin): MountedRemote {
  const config = d.resolve<CacheForgeConfig>(TOKENS.Config);
  const log = d.resolve<Logger>(TOKENS.Logger);
  const metrics = d.resolve<Metrics>(TOKENS.Metrics);
  const services = d.resolve<PipelineServices>(TOKENS.PipelineServices);
  const clients = d.resolve<Map<string, UpstreamClient>>(TOKENS.UpstreamClients);
  const activity = d.resolve<UpstreamActivity>(TOKENS.UpstreamActivity);
  const remote = withPluginHosts(configured, loaded.plugin, loaded.specifier);
  const client = new UpstreamClient(remote, activity.observe(upstreamObserver(metrics, log)), process.env, d.resolve<SelfIdentity>(TOKENS.Identity));
  clients.get(remote.name)?.close();
  clients.set(remote.name, client);
  const pipeline = new RemotePipeline(remote, new RemotePolicy(remote, loaded.plugin.classes), client, services);
  const definition = remoteDefinition(remote, config.server.publicUrl);
  const handler = createHandler(loaded, definition, {
    log: log.child({ plugin: loaded.plugin.name, remote: remote.name }), store: new NamespacedStore(services.cache, loaded.plugin.name, remote.name),
    metrics: metrics.plugins.forRemote(loaded.plugin.name, loaded.specifier, remote.name), learnedHosts: client.hosts,
    access: { anonymousRead: config.auth.anonymousRead },
  });
  if (handler.upstreamAuth) client.useAuth(handler.upstreamAuth);
  return { config: remote, definition, plugin: loaded.plugin, handler, pipeline };
}

/** What every remote's pipeline shares in this process. */
function pipelineServices(d: DependencyContainer, config: CacheForgeConfig, metrics: Metrics, log: Logger, clock: Clock,
  worker?: WorkerChannel): PipelineServices {
  const metadata = d.resolve<MetadataStore>(TOKENS.Metadata);
  const storage = d.resolve<Storage>(TOKENS.Storage);
  const cache = d.resolve<HotCache>(TOKENS.Cache);
  const spool = storage.capabilities.readWhileWriting ? undefined : new ProcessSpool(config.storage.s3?.spool ?? './data/spool');
  const replicas = replicaSharing(config, d.resolve<SelfIdentity>(TOKENS.Identity), storage, spool, cache, clock, log.child({ component: 'lock' }));
  const cluster = new ClusterLock<Resolved>(cache, metrics, log.child({ component: 'lock' }), config.cache.lock, clock, replicas?.sharing);
  return {
    storage,
    spool,
    replicaFills: replicas?.directory,
    metadata,
    cache,
    // A process lets one caller per key through; that caller takes the key's lock across workers, then across replicas.
    lock: new SingleFlight<Resolved>(worker ? new WorkerLock(worker, storage, log.child({ component: 'lock' }), cluster) : cluster),
    hot: worker ? new SharedHotIndex(worker, config.hot.maxBytes, config.hot.maxObjectBytes) : new HotIndex(config.hot.maxBytes, config.hot.maxObjectBytes),
    access: new AccessRecorder(metadata, log.child({ component: 'access' }), config.metadata.flushInterval),
    metrics,
    log: log.child({ component: 'pipeline' }),
    clock,
    fills: new Map<Fill, Promise<unknown>>(),
    purges: new PurgeLog(),
  };
}

/** A remote's handler from its plugin, checked against the contract. */
function createHandler(loaded: LoadedPlugin, definition: RemoteDefinition, context: PluginContext): Handler {
  let handler: Handler;
  try {
    handler = loaded.plugin.createHandler(definition, context);
  } catch (err) {
    // A metric declared against the contract already names the plugin, the remote and the metric.
    if (hasCode(err, 'CF_ERR_PLUGIN_CONTRACT')) throw err;
    throw cfError('CF_ERR_PLUGIN_FAILED', `plugin ${loaded.specifier} could not create the handler of remote ${definition.name}: ${(err as Error).message}`, { cause: err });
  }
  if (!handler || typeof handler.canHandle !== 'function' || typeof handler.fetch !== 'function') {
    throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin ${loaded.specifier}: createHandler must return { canHandle, fetch }`);
  }
  return handler;
}

/** What the upstream clients report: into the metrics, and the few events worth a log line. */
function upstreamObserver(metrics: Metrics, log: Logger): UpstreamObserver {
  return {
    onResponse: (...args) => metrics.onResponse(...args),
    onError: (...args) => metrics.onError(...args),
    // An outage is logged when it starts and ends, not on every request it turns away.
    onHealth: (name, host, up, changed) => {
      metrics.onHealth(name, host, up);
      if (!changed) return;
      if (up) log.info({ remote: name, upstream: host }, 'upstream is reachable again');
      else log.warn({ remote: name, upstream: host }, 'upstream is down: stored copies are served, one probe at a time checks it');
    },
    onLearnedHost: (name, host) => log.info({ remote: name, host }, 'remote may now fetch from a host its upstream named'),
  };
}

/** The storage, metadata and hot cache the config names, each wrapped once so all are measured alike. */
function registerBackends(c: DependencyContainer, config: CacheForgeConfig, metrics: Metrics, clock: Clock, worker?: WorkerChannel): void {
  c.register<Storage>(TOKENS.Storage, {
    useFactory: instanceCachingFactory(() => new MeasuredStorage(createStorage(config, clock, worker !== undefined), metrics.storage)),
  });
  const catalogue = instanceCachingFactory(() => createMetadata(config));
  c.register<MetadataStore>(TOKENS.Metadata, {
    useFactory: instanceCachingFactory((d) => new MeasuredMetadataStore(catalogue(d), metrics.metadata)),
  });
  c.register<ManagementStore>(TOKENS.Management, {
    useFactory: instanceCachingFactory((d) => { const store = catalogue(d); return new KnexManagementStore(store.knex, store.name === 'postgres' ? 'postgres' : 'sqlite'); }),
  });
  // The embedded in-memory cache of workers is the primary's, so what it holds is the instance's.
  const cache = (): HotCache => worker && config.cache.memory ? new IpcCache(worker) : createCache(config, clock);
  c.register<HotCache>(TOKENS.Cache, { useFactory: instanceCachingFactory(() => new MeasuredCache(cache(), metrics.cache)) });
  c.register<PurgeBus>(TOKENS.PurgeBus, {
    useFactory: instanceCachingFactory((d) => {
      const redis = config.cache.redis;
      if (redis) return new RedisPurgeBus({ url: redis.url, prefix: redis.prefix, commandTimeout: redis.timeout }, d.resolve<Logger>(TOKENS.Logger));
      // Workers of one instance without Redis: the primary relays a purge to every other worker.
      return worker ? new IpcPurgeBus(worker) : new LocalPurgeBus();
    }),
  });
}

function createStorage(config: CacheForgeConfig, clock: Clock, inWorker: boolean): Storage {
  const fs = config.storage.filesystem;
  if (fs) return new FilesystemStorage({ root: fs.path, temporaries: inWorker ? workerTemporaries(config, process.pid) : undefined });
  const s3 = config.storage.s3;
  if (s3) {
    return new S3Storage({
      ...s3, staleTemporaryAfter: 24 * 3600_000, redirectExpiry: s3.redirect ? s3.redirectExpiry : undefined,
      // Beside the process's spool, so a crashed process's staging files are swept with it.
      staging: path.resolve(s3.spool, String(process.pid), 'upload'), clock,
    });
  }
  throw cfError('CF_ERR_CONFIG_INVALID', 'no storage backend configured');
}

function createMetadata(config: CacheForgeConfig): KnexMetadataStore {
  if (config.metadata.sqlite) return new KnexMetadataStore({ dialect: 'sqlite', filename: config.metadata.sqlite.filename });
  const pg = config.metadata.postgres;
  if (pg) return new KnexMetadataStore({ dialect: 'postgres', connection: pg.connection, pool: pg.pool, schema: pg.schema });
  throw cfError('CF_ERR_CONFIG_INVALID', 'no metadata backend configured');
}

function createCache(config: CacheForgeConfig, clock: Clock): HotCache {
  if (config.cache.memory) return new KeyvCache({ name: 'memory', clock });
  const redis = config.cache.redis;
  if (redis) return new RedisCache({ url: redis.url, prefix: redis.prefix, commandTimeout: redis.timeout });
  throw cfError('CF_ERR_CONFIG_INVALID', 'no hot cache backend configured');
}
