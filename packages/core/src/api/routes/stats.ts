import type { ApiRoute } from '../route.js';
import type { ApiServices } from '../services.js';
import type { StatsIncrement } from '../../metadata/management.js';
import { STATS_PERIOD_MS } from '../stats/stats-recorder.js';
import { object } from '../schemas.js';
import { mounted } from './remotes.js';

const STATUSES = ['HIT', 'MISS', 'REVALIDATED', 'STALE', 'BYPASS'] as const;
/** Answers served from what was stored: the bytes they carried were not fetched again. */
const FROM_CACHE = new Set(['HIT', 'REVALIDATED', 'STALE']);
const TOP = 10;

const counted = { type: 'array', items: object({ name: { type: 'string' }, requests: { type: 'integer' }, bytes: { type: 'integer' } }) };
const perRemote = object({
  remote: { type: 'string' },
  requests: object(Object.fromEntries(STATUSES.map((s) => [s, { type: 'integer', minimum: 0 }]))),
  hitRatio: { type: ['number', 'null'], minimum: 0, maximum: 1 },
  bytesServed: { type: 'integer', minimum: 0 }, bytesFetched: { type: 'integer', minimum: 0 }, bytesSaved: { type: 'integer', minimum: 0 },
  topArtifacts: counted, clients: counted,
});

/** `GET /stats`: per remote, counts per cache status, hit ratio, bytes, top artifacts and clients. */
export function statsRoutes(s: ApiServices): ApiRoute[] {
  return [{
    method: 'GET', path: '/stats', operationId: 'getStats', tag: 'stats', scope: 'read',
    summary: 'Download statistics per remote (kept per hour; since/until are rounded to the hour)',
    query: {
      remote: { description: 'one remote; default all', schema: { type: 'string' } },
      since: { description: 'from this time (ISO 8601), rounded down to the hour', schema: { type: 'string', format: 'date-time' } },
      until: { description: 'up to this time (ISO 8601), rounded up to the hour', schema: { type: 'string', format: 'date-time' } },
    },
    responses: { 200: { description: 'The statistics', schema: object({ since: { type: ['string', 'null'] }, until: { type: ['string', 'null'] }, remotes: { type: 'array', items: perRemote } }) } },
    async handle({ query }) {
      if (query.remote !== undefined) mounted(s, query.remote);
      const since = query.since === undefined ? undefined : Math.floor(Date.parse(query.since) / STATS_PERIOD_MS) * STATS_PERIOD_MS;
      const until = query.until === undefined ? undefined : Math.ceil(Date.parse(query.until) / STATS_PERIOD_MS) * STATS_PERIOD_MS;
      const stored = await s.stats.stored({ remote: query.remote, since, until });
      const pending = (await s.stats.unwritten()).filter((p) => (query.remote === undefined || p.remote === query.remote)
        && (since === undefined || p.period >= since) && (until === undefined || p.period < until));
      const byRemote = new Map<string, Map<string, { name: string; kind: StatsIncrement['kind']; requests: number; bytes: number }>>();
      for (const r of s.registry.all()) if (query.remote === undefined || r.config.name === query.remote) byRemote.set(r.config.name, new Map());
      for (const row of [...stored, ...pending]) {
        const m = byRemote.get(row.remote);
        if (!m) continue;
        const key = `${row.kind}\u0000${row.name}`;
        const e = m.get(key) ?? { name: row.name, kind: row.kind, requests: 0, bytes: 0 };
        e.requests += row.requests;
        e.bytes += row.bytes;
        m.set(key, e);
      }
      const remotes = [...byRemote].map(([remote, m]) => {
        const rows = [...m.values()];
        const of = (kind: StatsIncrement['kind']) => rows.filter((r) => r.kind === kind);
        const requests = Object.fromEntries(STATUSES.map((st) => [st, of('status').find((r) => r.name === st)?.requests ?? 0])) as Record<string, number>;
        const cached = STATUSES.filter((st) => FROM_CACHE.has(st)).reduce((n, st) => n + requests[st]!, 0);
        const top = (kind: StatsIncrement['kind']) => of(kind).sort((a, b) => b.requests - a.requests || b.bytes - a.bytes || (a.name < b.name ? -1 : 1)).slice(0, TOP).map(({ name, requests: n, bytes }) => ({ name, requests: n, bytes }));
        return {
          remote, requests, hitRatio: cached + requests.MISS! > 0 ? cached / (cached + requests.MISS!) : null,
          bytesServed: of('status').reduce((n, r) => n + r.bytes, 0),
          bytesFetched: of('upstream').reduce((n, r) => n + r.bytes, 0),
          bytesSaved: of('status').filter((r) => FROM_CACHE.has(r.name)).reduce((n, r) => n + r.bytes, 0),
          topArtifacts: top('artifact'), clients: top('client'),
        };
      });
      return { status: 200, body: { since: since === undefined ? null : new Date(since).toISOString(), until: until === undefined ? null : new Date(until).toISOString(), remotes } };
    },
  }];
}
