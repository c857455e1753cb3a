import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { randomUUID } from 'node:crypto';
import { cfError } from '../../errors/errors.js';
import type { HotCache } from '../cache.js';
import { systemClock, type Clock } from '../../util/clock.js';

/**
 * The hot cache over keyv: an in-process Map by default, Redis (or any keyv store) for replicas.
 * Backend errors are rejected promises with CF_ERR_CACHE_BACKEND, never silent misses.
 */
export class KeyvCache implements HotCache {
  readonly name: string;
  private readonly keyv: Keyv;
  private readonly locks: Map<string, { token: string; expires: number }> | undefined;
  private readonly clock: Clock;

  /** `store` absent = memory. `clock` times the in-memory locks (keyv times its own TTLs). */
  constructor(options: { name?: string; store?: KeyvStoreAdapter | Map<unknown, unknown>; namespace?: string; clock?: Clock } = {}) {
    this.name = options.name ?? 'memory';
    this.clock = options.clock ?? systemClock;
    this.keyv = new Keyv({ store: options.store ?? new Map(), namespace: options.namespace ?? 'cf', throwOnErrors: true });
    this.locks = options.store ? undefined : new Map();
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.wrap('get', () => this.keyv.get<T>(key));
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    await this.wrap('set', () => this.keyv.set(key, value, ttlMs || undefined));
  }

  async delete(key: string): Promise<boolean> {
    return this.wrap('delete', () => this.keyv.delete(key));
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    if (!this.locks) throw cfError('CF_ERR_CACHE_BACKEND', `${this.name} cache has no lock support`, { op: 'cache.tryLock' });
    // NOTE: in one process the check and the set below run without an await between them, so
    // this is atomic; a shared store needs the store's own atomic set-if-absent.
    const now = this.clock.now();
    const held = this.locks.get(key);
    if (held && held.expires > now) return undefined;
    const token = randomUUID();
    this.locks.set(key, { token, expires: now + ttlMs });
    return async () => {
      if (this.locks!.get(key)?.token === token) this.locks!.delete(key);
    };
  }

  async ping(): Promise<void> {
    await this.wrap('ping', () => this.keyv.get('__ping__'));
  }

  async close(): Promise<void> {
    await this.keyv.disconnect().catch(() => undefined);
  }

  private async wrap<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw cfError('CF_ERR_CACHE_BACKEND', `${this.name} cache ${op} failed: ${(err as Error).message}`, { op: `cache.${op}`, cause: err });
    }
  }
}
