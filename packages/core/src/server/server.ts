import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS } from '../container.js';
import type { CacheForgeConfig } from '../config/config.js';
import type { Logger } from '../util/logger.js';
import type { Storage } from '../storage/storage.js';
import type { MetadataStore } from '../metadata/metadata.js';
import type { HotCache } from '../cache/cache.js';
import type { PipelineServices } from '../pipeline/services.js';
import type { RemoteRegistry } from '../plugin/remote-registry.js';
import type { UpstreamClient } from '../upstream/client.js';
import { redact } from '../util/redact.js';
import type { Metrics } from '../metrics/metrics.js';
import { createApp } from './app.js';
import { internalFills } from './internal-fills.js';
import { capConnectionsPerClient } from './client-limit.js';
import { refuseConnect } from './connect-refusal.js';
import type { SelfIdentity } from '../net/self.js';
import { createManagement, type Management } from '../api/wiring.js';
import { warnNoAdminToken } from '../auth/start-warning.js';

/**
 * One Cache Forge process: prepares the backends, listens, and on stop lets in-flight downloads
 * finish (up to `server.shutdownTimeout`) before aborting the rest, so nothing half-written stays.
 */
export class CacheForgeServer {
  private server?: Server;
  private management?: Management;

  /** The management API, once started (its route table, for tests and tools). */
  get managementApi(): Management["api"] | undefined { return this.management?.api; }
  private shuttingDown = false;
  private readonly log: Logger;
  private readonly config: CacheForgeConfig;

  /** `worker`: the slot of this worker process under `server.workers` (its primary announces the instance). */
  constructor(private readonly container: DependencyContainer, private readonly options: { worker?: number } = {}) {
    this.log = container.resolve<Logger>(TOKENS.Logger);
    this.config = container.resolve<CacheForgeConfig>(TOKENS.Config);
  }

  /** The process's metrics (also served at `/-/metrics`). */
  get metrics(): Metrics {
    return this.container.resolve<Metrics>(TOKENS.Metrics);
  }

  /** The address it listens on, once started. */
  get address(): AddressInfo {
    return this.server!.address() as AddressInfo;
  }

  async start(): Promise<AddressInfo> {
    const storage = this.container.resolve<Storage>(TOKENS.Storage);
    const metadata = this.container.resolve<MetadataStore>(TOKENS.Metadata);
    await storage.init();
    await metadata.init();
    const services = this.container.resolve<PipelineServices>(TOKENS.PipelineServices);
    await services.spool?.init();
    // The shared lock from the first request on: a hot cache still connecting would count as down,
    // and the replica would lock per process (duplicate upstream fetches) until it connected. A
    // cache that stays down is bounded by its command timeout and shows in /-/ready.
    await services.cache.ping().catch(() => undefined);
    const registry = this.container.resolve<RemoteRegistry>(TOKENS.Registry);
    const identity = this.container.resolve<SelfIdentity>(TOKENS.Identity);
    const metrics = this.metrics;
    const management = this.management = createManagement(this.container);
    await management.start();
    const app = createApp({
      config: this.config, log: this.log, metrics, storage, metadata, identity, management,
      internalFills: services.replicaFills && this.config.cluster.secret ? internalFills(services.replicaFills, this.config.cluster.secret) : undefined,
      cache: this.container.resolve<HotCache>(TOKENS.Cache), registry, isShuttingDown: () => this.shuttingDown,
      upstreams: () => [...this.container.resolve<Map<string, UpstreamClient>>(TOKENS.UpstreamClients).values()].flatMap((c) => c.states()),
    });
    const { headersTimeout } = this.config.server;
    const server = http.createServer({
      headersTimeout,
      // The time to receive a whole request, bodies included: relayed uploads may take long, and
      // idle sockets are bounded by keepAliveTimeout.
      requestTimeout: 0,
      // How often node looks for sockets past headersTimeout (its default, 30s, would let a
      // slowloris socket live 50s with a 20s timeout).
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.round(headersTimeout / 4))),
    }, app.callback());
    this.server = server;
    refuseConnect(server, this.log);
    server.keepAliveTimeout = 65_000;
    // Behind a trusted proxy every connection is the proxy's: app.ts caps requests per forwarded address instead.
    if (!this.config.server.trustProxy) {
      capConnectionsPerClient(server, this.config.server.maxConnectionsPerClient, () => metrics.refusedConnections.inc());
    }
    server.listen({ host: this.config.server.host, port: this.config.server.port });
    await once(server, 'listening');
    const address = this.address;
    identity.listeningOn({ host: this.config.server.host, port: address.port });
    this.log.info({
      host: address.address, port: address.port, config: this.config.source,
      // The whole base URL (two remotes on one host differ by path), never its credentials.
      remotes: registry.all().map((r) => `${r.config.name} (${r.plugin.name} → ${redact(r.config.upstream)})`),
      storage: storage.name, metadata: metadata.name, cache: services.cache.name,
    }, this.options.worker === undefined ? 'cacheforge listening' : 'worker listening');
    if (this.options.worker === undefined && this.config.auth.adminTokens.length === 0) warnNoAdminToken(this.log, this.config.auth.anonymousRead);
    return address;
  }

  /** Stops accepting, lets downloads finish for up to `shutdownTimeout`, aborts the rest, closes backends. */
  async stop(reason = 'stop'): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const services = this.container.resolve<PipelineServices>(TOKENS.PipelineServices);
    const server = this.server;
    this.log.info({ reason, inflightFills: services.fills.size }, 'shutting down');
    const closed = server ? once(server, 'close') : Promise.resolve();
    server?.close();
    server?.closeIdleConnections();
    // node closes only the keep-alive connections idle at close(): the others as their responses end.
    const idle = setInterval(() => server?.closeIdleConnections(), 100);
    idle.unref();

    const timeout = this.config.server.shutdownTimeout;
    const fillsDone = Promise.allSettled([...services.fills.values()]);
    await Promise.race([Promise.all([fillsDone, closed]), sleep(timeout, undefined, { ref: false })]);
    const unfinished = [...services.fills.keys()].filter((f) => f.state === 'filling');
    if (unfinished.length > 0) {
      this.log.warn({ count: unfinished.length }, 'aborting unfinished downloads; nothing partial is kept');
      for (const fill of unfinished) fill.abort(new Error('server shutting down'));
    }
    // Every fill settles: committed and recorded, or aborted and discarded.
    await Promise.allSettled([...services.fills.values()]);
    server?.closeAllConnections();
    await closed;
    clearInterval(idle);
    await services.access.close();
    await this.management?.close();
    for (const client of this.container.resolve<Map<string, UpstreamClient>>(TOKENS.UpstreamClients).values()) client.close();
    await services.metadata.close();
    await services.cache.close();
    await services.storage.close();
    this.log.info('stopped');
  }
}
