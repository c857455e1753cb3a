import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import type { HotCache } from '../cache/cache.js';
import type { Logger } from '../util/logger.js';
import { toWire } from './worker-channel.js';
import type { FillSnapshot, KeyEvent, PrimaryMessage, Request, WorkerMessage } from './messages.js';

/** How the primary reaches one worker. */
export type Send = (message: PrimaryMessage) => void;

/** One holding of a key: its holder, the workers waiting on it, and the fill they follow. */
interface Holding {
  readonly gen: number;
  readonly holder: number;
  readonly waiters: Set<number>;
  fill?: FillSnapshot;
}

/** How long a metrics round waits for a worker that does not answer (a busy or dying one). */
const METRICS_WAIT_MS = 2_000;

/**
 * What the primary keeps for its workers: the key locks (one holder per key across workers, the
 * holder's fill relayed to the others as it runs), the embedded hot cache, hot-index news, and
 * metrics rounds summed over every worker. A worker that exits takes its holdings with it: their
 * followers see the fill fail (a broken download, never a short clean one) and waiters look again.
 */
export class Coordinator {
  private readonly workers = new Map<number, Send>();
  private readonly holdings = new Map<string, Holding>();
  private readonly cacheLocks = new Map<string, { owner: number; release: () => Promise<void> }>();
  private readonly rounds = new Map<number, { replies: object[][]; expected: Set<number>; finish: () => void }>();
  private nextGen = 1;
  private nextRound = 1;

  constructor(private readonly cache: HotCache, private readonly log: Logger) {}

  attach(worker: number, send: Send): void {
    this.workers.set(worker, send);
  }

  /** Holdings under way (for tests and logs). */
  get held(): number {
    return this.holdings.size;
  }

  receive(worker: number, message: WorkerMessage): void {
    switch (message.t) {
      case 'req':
        this.answer(worker, message.id, message.req).then(
          (value) => this.send(worker, { cf: 1, t: 'res', id: message.id, value }),
          (err: unknown) => this.send(worker, { cf: 1, t: 'res', id: message.id, error: toWire(err) }));
        return;
      case 'unlock': {
        const holding = this.holdings.get(message.key);
        this.log.debug({ worker, key: message.key.replaceAll('\u0000', ' '), gen: message.gen, held: holding?.gen }, 'unlock');
        if (!holding || holding.gen !== message.gen || holding.holder !== worker) return;
        this.end(message.key, holding, message.error);
        return;
      }
      case 'hot':
      case 'purge':
        for (const [id, send] of this.workers) if (id !== worker) send(message);
        return;
      case 'metrics-reply': {
        const round = this.rounds.get(message.id);
        if (!round || !round.expected.delete(worker)) return;
        round.replies.push(message.metrics as object[]);
        if (round.expected.size === 0) round.finish();
        return;
      }
      case 'listening':
      case 'join':
        return;
      default:
        this.relay(worker, message);
    }
  }

  /** A worker exited: its holdings end (followers see the fill fail), its waits and cache locks go. */
  detach(worker: number): void {
    this.workers.delete(worker);
    for (const [key, holding] of [...this.holdings]) {
      holding.waiters.delete(worker);
      if (holding.holder !== worker) continue;
      const fill = holding.fill;
      if (fill && fill.state !== 'committed' && fill.state !== 'failed') {
        this.log.warn({ worker, key: key.replaceAll('\u0000', ' '), followers: holding.waiters.size }, 'worker exited during a fill; its followers fail and the next request fetches again');
        const error = { code: 'CF_ERR_UPSTREAM_UNAVAILABLE', message: 'the worker filling this object exited before it was stored' };
        this.toWaiters(holding, { t: 'failed', key, gen: holding.gen, seq: fill.seq, error });
      }
      this.end(key, holding);
    }
    for (const [token, lock] of [...this.cacheLocks]) {
      if (lock.owner !== worker) continue;
      this.cacheLocks.delete(token);
      void lock.release().catch(() => undefined);
    }
    for (const round of this.rounds.values()) if (round.expected.delete(worker) && round.expected.size === 0) round.finish();
  }

  private async answer(worker: number, id: number, req: Request): Promise<unknown> {
    switch (req.op) {
      case 'lock': return this.lock(worker, req.key);
      case 'cache.get': return (await this.cache.get(req.key)) ?? null;
      case 'cache.set': return this.cache.set(req.key, req.value, req.ttl);
      case 'cache.delete': return this.cache.delete(req.key);
      case 'cache.tryLock': {
        const release = await this.cache.tryLock(req.key, req.ttl);
        if (!release) return null;
        const token = randomUUID();
        this.cacheLocks.set(token, { owner: worker, release });
        return token;
      }
      case 'cache.unlock': {
        const lock = this.cacheLocks.get(req.token);
        this.cacheLocks.delete(req.token);
        await lock?.release();
        return null;
      }
      case 'metrics': return this.metrics();
      default: throw new Error(`unknown request ${(req as { op: string }).op} (${id})`);
    }
  }

  private lock(worker: number, key: string): { granted: boolean; gen: number } {
    const holding = this.holdings.get(key);
    this.log.debug({ worker, key: key.replaceAll('\u0000', ' '), held: holding?.gen, next: this.nextGen }, 'lock');
    if (!holding) {
      const gen = this.nextGen++;
      this.holdings.set(key, { gen, holder: worker, waiters: new Set() });
      return { granted: true, gen };
    }
    holding.waiters.add(worker);
    // Where the fill is now (the waiter keeps what arrives before its answer).
    if (holding.fill) this.send(worker, { cf: 1, t: 'fill', key, gen: holding.gen, fill: holding.fill });
    return { granted: false, gen: holding.gen };
  }

  /** A holder's fill event: kept as the fill's state (for waiters that come later) and passed on. */
  private relay(worker: number, event: KeyEvent): void {
    const holding = this.holdings.get(event.key);
    if (!holding || holding.gen !== event.gen || holding.holder !== worker) return;
    const fill = holding.fill;
    switch (event.t) {
      case 'fill': holding.fill = event.fill; break;
      case 'progress': if (fill && fill.seq === event.seq) holding.fill = { ...fill, flushed: event.flushed }; break;
      case 'verified': if (fill && fill.seq === event.seq) holding.fill = { ...fill, flushed: event.flushed, digest: event.digest, state: 'verified' }; break;
      case 'committed': if (fill && fill.seq === event.seq) holding.fill = { ...fill, flushed: event.blob.size, blob: event.blob, digest: event.blob.digest, state: 'committed' }; break;
      case 'failed': if (fill && fill.seq === event.seq) holding.fill = { ...fill, error: event.error, state: 'failed' }; break;
      default:
    }
    this.toWaiters(holding, event);
  }

  private end(key: string, holding: Holding, error?: { code?: string; message: string; headers?: Record<string, string> }): void {
    this.holdings.delete(key);
    this.toWaiters(holding, { t: 'released', key, gen: holding.gen, error });
  }

  private toWaiters(holding: Holding, event: KeyEvent | Omit<Extract<PrimaryMessage, { t: 'released' }>, 'cf'>): void {
    const message = { cf: 1, ...event } as PrimaryMessage;
    for (const waiter of holding.waiters) this.send(waiter, message);
  }

  /** Every worker's metrics, summed (a worker that does not answer in time is left out). */
  private metrics(): Promise<string> {
    const id = this.nextRound++;
    return new Promise<string>((resolve) => {
      const replies: object[][] = [];
      const expected = new Set(this.workers.keys());
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (!this.rounds.delete(id)) return;
        if (timer) clearTimeout(timer);
        resolve(AggregatorRegistry.aggregate(replies).metrics());
      };
      this.rounds.set(id, { replies, expected, finish });
      timer = setTimeout(finish, METRICS_WAIT_MS);
      timer.unref();
      for (const worker of expected) this.send(worker, { cf: 1, t: 'metrics-collect', id });
      if (expected.size === 0) finish();
    });
  }

  private send(worker: number, message: PrimaryMessage): void {
    try {
      this.workers.get(worker)?.(message);
    } catch (err) {
      this.log.debug({ worker, err }, 'worker channel closed');
    }
  }
}
