import type { RedisClientType } from '@keyv/redis';
import { cfError } from '../../errors/errors.js';
import { redact } from '../../util/redact.js';
import type { PurgeBus, PurgeEvent } from '../purge-bus.js';
import type { Logger } from '../../util/logger.js';

/**
 * Purges carried by Redis pub/sub on `<prefix>:purge`: one connection publishes, one subscribes
 * (a subscribed Redis connection can do nothing else). Pub/sub keeps no backlog: a replica cut
 * off from Redis while a purge was published would keep serving purged bodies from its hot
 * index, so on every reconnect it drops its whole hot index instead.
 */
export class RedisPurgeBus implements PurgeBus {
  readonly name = 'redis';
  private readonly listeners: ((event: PurgeEvent) => void)[] = [];
  private readonly clients: Promise<{ pub: RedisClientType; sub: RedisClientType }>;
  private readonly channel: string;

  constructor(private readonly options: { url: string; prefix: string; commandTimeout: number }, private readonly log: Logger) {
    this.channel = `${options.prefix}:purge`;
    this.clients = this.open();
  }

  async publish(event: PurgeEvent): Promise<void> {
    const { pub } = await this.clients;
    try {
      await pub.publish(this.channel, JSON.stringify(event));
    } catch (err) {
      throw cfError('CF_ERR_CACHE_BACKEND', `redis purge publish failed (${redact(this.options.url)}): ${(err as Error).message}`, { op: 'cache.publish', cause: err });
    }
  }

  subscribe(listener: (event: PurgeEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once the subscription is active (or the timeout passed). */
  async ready(): Promise<void> {
    await this.clients;
  }

  async close(): Promise<void> {
    const { pub, sub } = await this.clients;
    for (const c of [sub, pub]) {
      if (c.isReady) await c.close().catch(() => undefined);
      else if (c.isOpen) c.destroy();
    }
  }

  private async open() {
    const { createClient } = await import('@keyv/redis');
    const make = () => {
      const c = createClient({
        url: this.options.url, disableOfflineQueue: true,
        socket: { connectTimeout: this.options.commandTimeout, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000) },
      }) as RedisClientType;
      c.on('error', () => undefined);
      return c;
    };
    const pub = make();
    const sub = make();
    let connectedOnce = false;
    let subscribed: Promise<unknown> | undefined;
    const subscribe = () => subscribed ??= sub.subscribe(this.channel, (message: string) => {
      try { this.deliver(JSON.parse(message) as PurgeEvent); } catch { /* not a purge event */ }
    }).catch(() => { subscribed = undefined; });
    sub.on('ready', () => {
      if (connectedOnce) { this.log.warn('purge channel reconnected: dropping the in-process hot index, purges may have been missed'); this.deliver({}); }
      connectedOnce = true;
      void subscribe();
    });
    const connected = Promise.all([pub.connect(), sub.connect()]).then(() => subscribe()).catch(() => undefined);
    await Promise.race([connected, new Promise((r) => setTimeout(r, this.options.commandTimeout).unref())]);
    return { pub, sub };
  }

  private deliver(event: PurgeEvent): void {
    for (const l of this.listeners) l(event);
  }
}
