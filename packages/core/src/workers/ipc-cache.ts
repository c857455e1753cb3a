import type { HotCache } from '../cache/cache.js';
import type { WorkerChannel } from './worker-channel.js';

/**
 * The embedded in-memory hot cache, kept by the primary for all its workers: remembered 404s,
 * `checked:` freshness and plugin state (tokens) are the instance's, not one worker's.
 */
export class IpcCache implements HotCache {
  readonly name = 'memory';

  constructor(private readonly channel: WorkerChannel) {}

  async get<T>(key: string): Promise<T | undefined> {
    // JSON has no undefined: the primary answers an absent key with null.
    return (await this.channel.request<T | null>({ op: 'cache.get', key })) ?? undefined;
  }

  set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    return this.channel.request<void>({ op: 'cache.set', key, value, ttl: ttlMs });
  }

  delete(key: string): Promise<boolean> {
    return this.channel.request<boolean>({ op: 'cache.delete', key });
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const token = await this.channel.request<string | null>({ op: 'cache.tryLock', key, ttl: ttlMs });
    if (token === null) return undefined;
    return () => this.channel.request<void>({ op: 'cache.unlock', token });
  }

  async ping(): Promise<void> {
    await this.get('__ping__');
  }

  async close(): Promise<void> {}
}
