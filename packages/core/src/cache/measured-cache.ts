import type { OperationMeter, OperationMetrics } from '../metrics/operations.js';
import type { HotCache } from './cache.js';

/**
 * Any {@link HotCache} with each call timed and each failure counted by code. A lock's release is
 * timed as `unlock`; a lock held by another counts as a call, not a failure.
 */
export class MeasuredCache implements HotCache {
  private readonly meter: OperationMeter;

  constructor(private readonly inner: HotCache, metrics: OperationMetrics) {
    this.meter = metrics.meter(inner.name);
  }

  get name(): string {
    return this.inner.name;
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.meter.measure('get', () => this.inner.get<T>(key));
  }

  set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    return this.meter.measure('set', () => this.inner.set(key, value, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    return this.meter.measure('delete', () => this.inner.delete(key));
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const release = await this.meter.measure('tryLock', () => this.inner.tryLock(key, ttlMs));
    return release && (() => this.meter.measure('unlock', release));
  }

  ping(): Promise<void> {
    return this.meter.measure('ping', () => this.inner.ping());
  }

  close(): Promise<void> {
    return this.meter.measure('close', () => this.inner.close());
  }
}
