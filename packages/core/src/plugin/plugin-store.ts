import type { HotCache } from '../cache/cache.js';

/**
 * A small key/value store with expiry that a plugin's handler may use for disposable state (upstream
 * tokens, short-lived lookups). It lives in the hot cache, so replicas share it when the hot cache is
 * shared; keys are namespaced per plugin and remote, so plugins cannot read each other's entries.
 * Losing it must only cost work, never correctness.
 */
export interface PluginStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` (JSON-serializable) for `ttlMs` milliseconds. */
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A {@link PluginStore} over the hot cache under `plugin:<plugin>:<remote>:`. */
export class NamespacedStore implements PluginStore {
  private readonly prefix: string;

  constructor(private readonly cache: HotCache, plugin: string, remote: string) {
    this.prefix = `plugin:${plugin}:${remote}:`;
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.cache.get<T>(this.prefix + key);
  }

  set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`a plugin store entry needs a positive TTL, got ${ttlMs}`);
    return this.cache.set(this.prefix + key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.cache.delete(this.prefix + key);
  }
}
