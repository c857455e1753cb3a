import { randomUUID } from 'node:crypto';
import { redact } from '../../util/redact.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClientType } from '@keyv/redis';
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
  private readonly connection: Promise<Connection>;
  private readonly renewals = new Set<NodeJS.Timeout>();

  constructor(private readonly options: RedisCacheOptions) {
    this.connection = this.open();
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.live('get')).values.get<T>(key);
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    await (await this.live('set')).values.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.live('delete')).values.delete(key);
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const { client } = await this.live('tryLock');
    const lockKey = this.lockKey(key);
    const token = randomUUID();
    const taken = await this.command('tryLock', () => client.set(lockKey, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }));
    if (taken !== 'OK') return undefined;
    // Renewed while held, so a long fill keeps its lock; only a dead holder's lock runs out.
    const renewal = setInterval(() => {
      if (client.isReady) void client.eval(EXTEND, { keys: [lockKey], arguments: [token, String(ttlMs)] }).catch(() => undefined);
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
      if (client.isReady) await client.eval(RELEASE, { keys: [lockKey], arguments: [token] }).catch(() => undefined);
    };
  }

  async ping(): Promise<void> {
    await this.ready();
    const { client } = await this.live('ping');
    await this.command('ping', () => client.ping());
  }

  /**
   * Resolves once connected, or after the timeout: NOTE the client's first `connect()` keeps
   * retrying while Redis is down and never settles, so nothing may wait for it unbounded.
   */
  async ready(): Promise<void> {
    await Promise.race([this.connection.then((c) => c.connected), sleep(this.options.commandTimeout, undefined, { ref: false })]);
  }

  async close(): Promise<void> {
    for (const renewal of this.renewals) clearInterval(renewal);
    this.renewals.clear();
    const { client } = await this.connection;
    if (client.isReady) await client.close().catch(() => undefined);
    else if (client.isOpen) client.destroy();
  }

  /** Deletes every key under this cache's prefix (values and locks): a reset, for tests and operators. */
  async clear(): Promise<void> {
    const { client } = await this.live('clear');
    await this.command('clear', async () => {
      for await (const keys of client.scanIterator({ MATCH: `${this.options.prefix}:*`, COUNT: 500 })) if (keys.length) await client.del(keys);
    });
  }

  /** Every key this cache holds (values and locks), for tests and operators. */
  async keys(): Promise<string[]> {
    const { client } = await this.live('keys');
    const found: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${this.options.prefix}:*`, COUNT: 500 })) found.push(...batch);
    return found;
  }

  /**
   * Creates the client and starts connecting. NOTE: the Redis client is loaded on first use, so
   * installations on the memory cache do not carry it (~20 MB of a process's memory).
   */
  private async open(): Promise<Connection> {
    const { default: KeyvRedis, createClient } = await import('@keyv/redis');
    const client = createClient({
      url: this.options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: this.options.commandTimeout, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000) },
    }) as RedisClientType;
    // Connection errors surface on the commands that fail; the event must still be handled.
    client.on('error', () => undefined);
    const connected = client.connect().catch(() => undefined);
    const store = new KeyvRedis(client, { throwOnErrors: true, throwOnConnectError: true, noNamespaceAffectsAll: false });
    return { client, connected, values: new KeyvCache({ name: 'redis', store, namespace: this.options.prefix }) };
  }

  /** The connection when Redis answers; CF_ERR_CACHE_BACKEND at once when it does not. */
  private async live(op: string): Promise<Connection> {
    const connection = await this.connection;
    if (!connection.client.isReady) throw cfError('CF_ERR_CACHE_BACKEND', `redis cache ${op} failed: not connected to ${redact(this.options.url)}`, { op: `cache.${op}` });
    return connection;
  }

  private lockKey(key: string): string {
    return `${this.options.prefix}:lock:${key}`;
  }

  private async command<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw cfError('CF_ERR_CACHE_BACKEND', `redis cache ${op} failed: ${(err as Error).message}`, { op: `cache.${op}`, cause: err });
    }
  }
}

/** A client, its first connection attempt, and keyv over it. */
interface Connection {
  readonly client: RedisClientType;
  readonly connected: Promise<unknown>;
  readonly values: KeyvCache;
}

