import { performance } from 'node:perf_hooks';
import { Counter, Histogram, type Registry } from 'prom-client';
import { isCacheForgeError } from '../errors/errors.js';

/** The backend layers whose calls are timed (see the measured wrappers beside each contract). */
export type MeasuredLayer = 'storage' | 'metadata' | 'cache';

// Local disk and hot-cache calls take well under a millisecond, a remote store's seconds.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The duration histogram and error counter of one backend layer:
 * `cacheforge_<layer>_operation_seconds{backend,op}` and `cacheforge_<layer>_errors_total{backend,op,code}`.
 */
export class OperationMetrics {
  readonly seconds: Histogram<'backend' | 'op'>;
  readonly errors: Counter<'backend' | 'op' | 'code'>;

  constructor(registry: Registry, layer: MeasuredLayer) {
    this.seconds = new Histogram({
      name: `cacheforge_${layer}_operation_seconds`, help: `Duration of ${layer} backend calls, by backend and operation.`,
      labelNames: ['backend', 'op'] as const, buckets: BUCKETS, registers: [registry],
    });
    this.errors = new Counter({
      name: `cacheforge_${layer}_errors_total`, help: `Failed ${layer} backend calls, by backend, operation and error code.`,
      labelNames: ['backend', 'op', 'code'] as const, registers: [registry],
    });
  }

  /** The meter one wrapped backend records through. */
  meter(backend: string): OperationMeter {
    return new OperationMeter(this, backend);
  }
}

/** Times the calls of one backend: one histogram observation per call, one count per failure. */
export class OperationMeter {
  // Bound children, so a call costs no label lookup.
  private readonly timers = new Map<string, Histogram.Internal<'backend' | 'op'>>();

  constructor(private readonly metrics: OperationMetrics, private readonly backend: string) {}

  /** Runs `call` as operation `op`, recording how long it took and, if it throws, its code. */
  async measure<T>(op: string, call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await call();
    } catch (err) {
      this.metrics.errors.inc({ backend: this.backend, op, code: errorCode(err) });
      throw err;
    } finally {
      this.timer(op).observe((performance.now() - start) / 1000);
    }
  }

  private timer(op: string): Histogram.Internal<'backend' | 'op'> {
    let timer = this.timers.get(op);
    if (!timer) {
      timer = this.metrics.seconds.labels({ backend: this.backend, op });
      this.timers.set(op, timer);
    }
    return timer;
  }
}

/**
 * The label an error is counted under: its Cache Forge code, else a system code (`ENOSPC`), else
 * `unknown`. A label's values must stay few, so free text never becomes one.
 */
function errorCode(err: unknown): string {
  if (isCacheForgeError(err)) return err.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]{1,30}$/.test(code) ? code : 'unknown';
}
