import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import KeyvRedis, { createClient, type RedisClientType } from '@keyv/redis';
import { cfError } from '../../errors/errors.js';
import type { HotCache } from '../cache.js';
import { KeyvCache } from '../keyv/keyv-cache.js';

/** Options of {@link RedisCache} (the `cache.redis` config block). */
export interface RedisCacheOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://`). */
  readonly url: string;
  /** Prefix of every key, so several installations (or test runs) can share one Redis. */
  readonly prefix: string;
  /** Time to connect and per-command answer before the command fails (ms). */
  readonly commandTimeout: number;
}

// NOTE: compare-and-delete / compare-and-extend, so a holder whose lock expired and was taken by
// another replica can neither release nor extend the new holder's lock.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * The hot cache shared by replicas: keyv over Redis for values, and a lock per key taken with
 * `SET NX PX` and kept alive while its holder runs (a holder that dies loses it after `ttlMs`).
 * Commands fail at once while Redis is unreachable (no offline queue): callers see
 * CF_ERR_CACHE_BACKEND and degrade, they never hang or take an error for a miss. The client keeps
 * reconnecting in the background, so the cache recovers by itself when Redis is back.
 */
export class RedisCache implements HotCache {
  readonly name = 'redis';
  private readonly client: RedisClientType;
  private readonly values: KeyvCache;
  private readonly connecting: Promise<unknown>;
  private readonly renewals = new Set<NodeJS.Timeout>();

  constructor(private readonly options: RedisCacheOptions) {
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: options.commandTimeout, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000) },
    }) as RedisClientType;
    // Connection errors surface on the commands that fail; the event must still be handled.
    this.client.on('error', () => undefined);
    this.connecting = this.client.connect().catch(() => undefined);
    const store = new KeyvRedis(this.client, { throwOnErrors: true, throwOnConnectError: true, noNamespaceAffectsAll: false });
    this.values = new KeyvCache({ name: 'redis', store, namespace: options.prefix });
  }

  async get<T>(key: string): Promise<T | undefined> {
    this.checkReady('get');
    return this.values.get<T>(key);
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.checkReady('set');
    await this.values.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    this.checkReady('delete');
    return this.values.delete(key);
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    this.checkReady('tryLock');
    const lockKey = this.lockKey(key);
    const token = randomUUID();
    const taken = await this.command('tryLock', () => this.client.set(lockKey, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }));
    if (taken !== 'OK') return undefined;
    // Renewed while held, so a long fill keeps its lock; only a dead holder's lock runs out.
    const renewal = setInterval(() => {
      if (this.client.isReady) void this.client.eval(EXTEND, { keys: [lockKey], arguments: [token, String(ttlMs)] }).catch(() => undefined);
    }, Math.max(50, Math.floor(ttlMs / 3)));
    renewal.unref();
    this.renewals.add(renewal);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(renewal);
      this.renewals.delete(renewal);
      // A release that cannot reach Redis is harmless: the lock expires by itself.
      if (this.client.isReady) await this.client.eval(RELEASE, { keys: [lockKey], arguments: [token] }).catch(() => undefined);
    };
  }

  async ping(): Promise<void> {
    await this.ready();
    this.checkReady('ping');
    await this.command('ping', () => this.client.ping());
  }

  /**
   * Resolves once connected, or after the timeout: NOTE the client's first `connect()` keeps
   * retrying while Redis is down and never settles, so nothing may wait for it unbounded.
   */
  async ready(): Promise<void> {
    await Promise.race([this.connecting, sleep(this.options.commandTimeout, undefined, { ref: false })]);
  }

  async close(): Promise<void> {
    for (const renewal of this.renewals) clearInterval(renewal);
    this.renewals.clear();
    if (this.client.isReady) await this.client.close().catch(() => undefined);
    else if (this.client.isOpen) this.client.destroy();
  }

  /** Deletes every key under this cache's prefix (values and locks): a reset, for tests and operators. */
  async clear(): Promise<void> {
    this.checkReady('clear');
    await this.command('clear', async () => {
      for await (const keys of this.client.scanIterator({ MATCH: `${this.options.prefix}:*`, COUNT: 500 })) if (keys.length) await this.client.del(keys);
    });
  }

  /** Every key this cache holds (values and locks), for tests and operators. */
  async keys(): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of this.client.scanIterator({ MATCH: `${this.options.prefix}:*`, COUNT: 500 })) found.push(...batch);
    return found;
  }

  private lockKey(key: string): string {
    return `${this.options.prefix}:lock:${key}`;
  }

  private checkReady(op: string): void {
    if (!this.client.isReady) throw cfError('CF_ERR_CACHE_BACKEND', `redis cache ${op} failed: not connected to ${redactUrl(this.options.url)}`, { op: `cache.${op}` });
  }

  private async command<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw cfError('CF_ERR_CACHE_BACKEND', `redis cache ${op} failed: ${(err as Error).message}`, { op: `cache.${op}`, cause: err });
    }
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}
