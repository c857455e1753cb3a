import type { Context, Middleware } from 'koa';
import type { StatsIncrement, StatsStore } from '../../metadata/management.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { PRINCIPAL } from '../../auth/request-auth.js';
import type { Principal } from '../../auth/scopes.js';

/** Statistics are kept per hour: `since`/`until` of a query are rounded to it. */
export const STATS_PERIOD_MS = 3600_000;

/** The longest a served response waits in memory before it is in the metadata store (every replica's answer sees it then). */
export const STATS_FLUSH_MS = 1000;

/** Longest artifact path or client name kept (the column's width). */
const MAX_NAME = 512;

type Entry = { -readonly [K in keyof StatsIncrement]: StatsIncrement[K] };
/** Pending entries by period, remote, kind, then name: a count finds its entry without building a key string. */
type Index = Map<number, Map<string, Map<StatsIncrement['kind'], Map<string, Entry>>>>;

/**
 * Download statistics: every response a remote served adds to counters in memory (by cache
 * status, client, artifact), and every {@link STATS_FLUSH_MS} one transaction adds them to the
 * metadata store, so restarts keep them and replicas add up. Bytes fetched upstream come from the
 * process's own counter, as the difference since the last flush. A query adds what is still in
 * memory here, so this replica's answers are visible at once.
 */
export class StatsRecorder {
  private pending: Entry[] = [];
  private index: Index = new Map();
  private readonly timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private fetchedSeen = new Map<string, number>();

  constructor(private readonly store: StatsStore, private readonly metrics: Metrics, private readonly clock: Clock, private readonly log: Logger, flushMs: number) {
    const every = flushMs === 0 ? STATS_FLUSH_MS : Math.min(flushMs, STATS_FLUSH_MS);
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  /** Counts each answer of a remote once it is sent. Not async: a hit pays no extra await. */
  middleware(): Middleware {
    return (ctx, next) => next().then(() => {
      if (ctx.state.remote === undefined) return;
      const res = ctx.res;
      if (res.writableFinished || res.closed) this.count(ctx);
      else res.once('close', () => this.count(ctx));
    });
  }

  // NOTE: reads koa's request and response objects, not the context's delegating getters: each
  // of those is a megamorphic property load, and a hit pays for every one.
  private count(ctx: Context): void {
    const remote = ctx.state.remote as string;
    const response = ctx.response;
    const status = (ctx.state.cacheStatus as string | undefined) ?? (response.get('x-cache-status') || undefined);
    const code = response.status;
    if (!status || code >= 400) return;
    const complete = ctx.res.writableFinished;
    const sent = ctx.req.method === 'HEAD' || code === 304 ? 0 : (ctx.state.bodyBytes as number | undefined) ?? Number(ctx.res.getHeader('content-length'));
    const bytes = complete && Number.isFinite(sent) ? sent : 0;
    const principal = ctx.state[PRINCIPAL] as Principal | undefined;
    const period = Math.floor(this.clock.now() / STATS_PERIOD_MS) * STATS_PERIOD_MS;
    this.add(period, remote, 'status', status, bytes);
    this.add(period, remote, 'client', principal ? `token:${principal.name}` : ctx.request.ip || 'unknown', bytes);
    this.add(period, remote, 'artifact', ctx.request.path.slice(0, MAX_NAME), bytes);
  }

  private add(period: number, remote: string, kind: StatsIncrement['kind'], name: string, bytes: number, requests = 1): void {
    const names = this.names(period, remote, kind);
    const entry = names.get(name);
    if (entry) { entry.requests += requests; entry.bytes += bytes; return; }
    const added: Entry = { period, remote, kind, name, requests, bytes };
    names.set(name, added);
    this.pending.push(added);
  }

  private names(period: number, remote: string, kind: StatsIncrement['kind']): Map<string, Entry> {
    let remotes = this.index.get(period);
    if (!remotes) this.index.set(period, remotes = new Map());
    let kinds = remotes.get(remote);
    if (!kinds) remotes.set(remote, kinds = new Map());
    let names = kinds.get(kind);
    if (!names) kinds.set(kind, names = new Map());
    return names;
  }

  /** Adds the upstream bytes received since the last flush, per remote. */
  private async takeFetched(): Promise<void> {
    const period = Math.floor(this.clock.now() / STATS_PERIOD_MS) * STATS_PERIOD_MS;
    for (const v of (await this.metrics.bytesFetched.get()).values) {
      const remote = String(v.labels.remote);
      const delta = v.value - (this.fetchedSeen.get(remote) ?? 0);
      this.fetchedSeen.set(remote, v.value);
      if (delta > 0) this.add(period, remote, 'upstream', 'fetched', delta, 0);
    }
  }

  /** What the metadata store holds (every replica's flushed counts). */
  stored(query: { remote?: string; since?: number; until?: number }): Promise<Omit<StatsIncrement, 'period'>[]> {
    return this.store.totals(query);
  }

  /** What is counted here and not yet written. */
  async unwritten(): Promise<StatsIncrement[]> {
    await this.takeFetched();
    return [...this.pending];
  }

  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      await this.takeFetched();
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      this.index = new Map();
      try {
        await this.store.add(batch);
      } catch (err) {
        // Kept for the next round: a metadata hiccup must not lose counts.
        for (const s of batch) this.add(s.period, s.remote, s.kind, s.name, s.bytes, s.requests);
        this.log.warn({ err, count: batch.length }, 'could not write download statistics; retrying');
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
