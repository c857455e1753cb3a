import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UpstreamObserver } from './upstream-observer.js';
import { OperationMetrics } from './operations.js';
import { PluginMetricFamilies } from './plugin-metrics.js';

/**
 * One label set of a counter, counted in a plain number and added to the counter whenever the
 * registry is read: prom-client hashes and validates the labels on every `inc`, which costs a
 * small hit more than the rest of its bookkeeping.
 */
export class Tally {
  /** Counted since the registry was last read. */
  pending = 0;
  constructor(readonly labels: Record<string, string>) {}
  add(n = 1): void { this.pending += n; }
}

/** A counter whose hot-path label sets are {@link Tally tallies}, flushed into it on every read. */
class TalliedCounter<T extends string> extends Counter<T> {
  private readonly tallies: Tally[] = [];

  constructor(config: ConstructorParameters<typeof Counter<T>>[0]) {
    super({ ...config, collect: () => this.flush() });
  }

  /** The tally of `labels`: what is added to it is in the counter at the next read. */
  tally(labels: Record<T, string>): Tally {
    const tally = new Tally(labels);
    this.tallies.push(tally);
    return tally;
  }

  private flush(): void {
    for (const t of this.tallies) if (t.pending > 0) { this.inc(t.labels as Record<T, string>, t.pending); t.pending = 0; }
  }
}

/** The Prometheus metrics of one process, served at `/-/metrics`. */
export class Metrics implements UpstreamObserver {
  readonly registry = new Registry();
  readonly requests = new TalliedCounter({
    name: 'cacheforge_requests_total', help: 'Requests answered, by remote, cache status and HTTP status.',
    labelNames: ['remote', 'cache', 'status'] as const, registers: [this.registry],
  });
  readonly bytesServed = new TalliedCounter({
    name: 'cacheforge_served_bytes_total', help: 'Body bytes sent to clients, by remote.', labelNames: ['remote'] as const, registers: [this.registry],
  });
  readonly bytesFetched = new Counter({
    name: 'cacheforge_fetched_bytes_total', help: 'Body bytes received from upstreams, by remote.', labelNames: ['remote'] as const, registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'cacheforge_upstream_response_seconds', help: 'Time from upstream request to response headers, by remote and status.',
    labelNames: ['remote', 'status'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'cacheforge_upstream_errors_total', help: 'Upstream failures, by remote and error code.', labelNames: ['remote', 'reason'] as const, registers: [this.registry],
  });
  readonly inflight = new Gauge({
    name: 'cacheforge_inflight_fetches', help: 'Upstream fills in progress, by remote.', labelNames: ['remote'] as const, registers: [this.registry],
  });

  readonly refusedConnections = new Counter({
    name: 'cacheforge_refused_connections_total', help: 'Client connections closed at once: their address already held server.maxConnectionsPerClient.',
    registers: [this.registry],
  });
  readonly upstreamUp = new Gauge({
    name: 'cacheforge_upstream_up', help: 'Whether an upstream host is reachable (0 while marked down), by remote and host.', labelNames: ['remote', 'host'] as const, registers: [this.registry],
    aggregator: 'min', // summed over workers it would count them; down in any worker is down
  });
  readonly uncaughtErrors = new Counter({
    name: 'cacheforge_uncaught_errors_total', help: 'Errors that escaped a request and were stopped by the last line of defence (always a bug).', registers: [this.registry],
  });

  /** Timings and failures of the storage, metadata and hot-cache backends (their measured wrappers). */
  readonly storage = new OperationMetrics(this.registry, 'storage');
  readonly metadata = new OperationMetrics(this.registry, 'metadata');
  readonly cache = new OperationMetrics(this.registry, 'cache');
  /** The metrics plugins declare (`cacheforge_<format>_<name>{remote,...}`), one set per format. */
  readonly plugins = new PluginMetricFamilies(this.registry);
  /** The text `/-/metrics` answers with: this registry's, or in a worker every worker's summed (set by the container). */
  exposition: () => Promise<string> = () => this.registry.metrics();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cacheforge_' });
  }

  onResponse(remote: string, status: number, seconds: number): void {
    this.upstreamLatency.observe({ remote, status: String(status) }, seconds);
  }

  onError(remote: string, reason: string): void {
    this.upstreamErrors.inc({ remote, reason });
  }

  onHealth(remote: string, host: string, up: boolean): void {
    this.upstreamUp.set({ remote, host }, up ? 1 : 0);
  }
}
