import type { HotCache } from '../cache/cache.js';
import type { PluginStore } from '../contract/plugin-store.js';

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
