import type { Knex } from 'knex';
import { cfError, isCacheForgeError } from '../../errors/errors.js';
import { fromRow, type Row } from './knex-metadata-store.js';
import type { ArtifactRecord } from '../metadata.js';
import { KnexRuntimeRemotes } from './knex-runtime-remotes.js';
import type { Run } from './run.js';
import type {
  RuntimeRemoteStore,
  ArtifactCatalogue, CatalogueChild, ManagementStore, PurgedRow, PurgeTarget, StatsIncrement, StatsStore, TokenRecord, TokenStore,
} from '../management.js';

const ARTIFACTS = 'cf_artifacts';
const TOKENS = 'cf_tokens';
const STATS = 'cf_stats';

interface TokenRow {
  id: string; name: string; hash: string; scopes: string; remotes: string | null;
  created_at: number | string; expires_at: number | string | null; last_used_at: number | string | null; revoked_at: number | string | null;
}

/**
 * The management API's tables and queries over the metadata store's own knex pool, for SQLite
 * and PostgreSQL alike. NOTE: keys are compared byte-wise (`COLLATE "C"` on PostgreSQL, SQLite's
 * default), so a folder's keys are one contiguous range whatever the database's collation.
 */
export class KnexManagementStore implements ManagementStore {
  readonly tokens: TokenStore;
  readonly catalogue: ArtifactCatalogue;
  readonly stats: StatsStore;
  readonly remotes: RuntimeRemoteStore;

  constructor(db: Knex, dialect: 'sqlite' | 'postgres') {
    const run = wrapper(dialect);
    this.tokens = new KnexTokens(db, run);
    this.catalogue = new KnexCatalogue(db, run, dialect === 'postgres' ? ' COLLATE "C"' : '');
    this.stats = new KnexStats(db, run);
    this.remotes = new KnexRuntimeRemotes(db, run);
  }
}

function wrapper(name: string): Run {
  return async (op, fn) => {
    try {
      return await fn();
    } catch (err) {
      if (isCacheForgeError(err)) throw err;
      throw cfError('CF_ERR_METADATA_BACKEND', `${name} metadata ${op} failed: ${(err as Error).message}`, { op: `metadata.${op}`, cause: err });
    }
  };
}

class KnexTokens implements TokenStore {
  constructor(private readonly db: Knex, private readonly run: Run) {}

  async create(t: Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>): Promise<void> {
    await this.run('createToken', async () => {
      const taken = await this.db(TOKENS).where({ name: t.name }).first();
      if (taken) throw cfError('CF_ERR_API_CONFLICT', `a token named ${JSON.stringify(t.name)} already exists; names stay taken after revocation`);
      await this.db(TOKENS).insert({
        id: t.id, name: t.name, hash: t.hash, scopes: JSON.stringify(t.scopes), remotes: t.remotes ? JSON.stringify(t.remotes) : null,
        created_at: t.createdAt, expires_at: t.expiresAt ?? null,
      });
    });
  }

  async byHash(hash: string): Promise<TokenRecord | undefined> {
    const row = await this.run('tokenByHash', () => this.db<TokenRow>(TOKENS).where({ hash }).first());
    return row ? tokenFromRow(row) : undefined;
  }

  async byId(id: string): Promise<TokenRecord | undefined> {
    const row = await this.run('tokenById', () => this.db<TokenRow>(TOKENS).where({ id }).first());
    return row ? tokenFromRow(row) : undefined;
  }

  async list(): Promise<TokenRecord[]> {
    const rows = await this.run('listTokens', () => this.db<TokenRow>(TOKENS).orderBy('created_at').orderBy('id'));
    return rows.map(tokenFromRow);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return (await this.run('revokeToken', () => this.db(TOKENS).where({ id }).whereNull('revoked_at').update({ revoked_at: at }))) > 0;
  }

  async touch(batch: readonly { id: string; at: number }[]): Promise<void> {
    if (batch.length === 0) return;
    const ordered = [...batch].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await this.run('touchTokens', () => this.db.transaction(async (trx) => {
      for (const { id, at } of ordered) {
        await trx(TOKENS).where({ id }).update({ last_used_at: trx.raw('CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END', [at, at]) });
      }
    }));
  }
}

function tokenFromRow(row: TokenRow): TokenRecord {
  const opt = (v: number | string | null) => (v === null ? undefined : Number(v));
  return {
    id: row.id, name: row.name, hash: row.hash, scopes: JSON.parse(row.scopes) as string[],
    remotes: row.remotes === null ? undefined : JSON.parse(row.remotes) as string[],
    createdAt: Number(row.created_at), expiresAt: opt(row.expires_at), lastUsedAt: opt(row.last_used_at), revokedAt: opt(row.revoked_at),
  };
}

/** The first string after every string that starts with `prefix` (byte-wise): the prefix's upper bound. */
function upperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

class KnexCatalogue implements ArtifactCatalogue {
  constructor(private readonly db: Knex, private readonly run: Run, private readonly collate: string) {}

  /** Rows of `remote` with `lo <= key < hi` (either bound optional). */
  private range(q: Knex.QueryBuilder, remote: string, lo?: { key: string; inclusive: boolean }, hi?: string): Knex.QueryBuilder {
    q.where('remote', remote);
    if (lo) q.whereRaw(`key${this.collate} ${lo.inclusive ? '>=' : '>'} ?`, [lo.key]);
    if (hi !== undefined) q.whereRaw(`key${this.collate} < ?`, [hi]);
    return q;
  }

  async children(remote: string, prefix: string, options: { limit: number; after?: string }): Promise<CatalogueChild[]> {
    return this.run('listChildren', async () => {
      const hi = prefix === '' ? undefined : upperBound(prefix);
      const children: CatalogueChild[] = [];
      // A folder child `b/` is passed by starting at its upper bound; an artifact child by its key.
      let from: { key: string; inclusive: boolean } = options.after === undefined
        ? { key: prefix, inclusive: true }
        : options.after.endsWith('/') ? { key: upperBound(prefix + options.after), inclusive: true } : { key: prefix + options.after, inclusive: false };
      // Bounded: one child per round, `limit` rounds at most.
      while (children.length < options.limit) {
        const next = await this.range(this.db(ARTIFACTS).select('key'), remote, from, hi).orderByRaw(`key${this.collate}`).first() as { key: string } | undefined;
        if (!next) break;
        const rest = next.key.slice(prefix.length);
        const slash = rest.indexOf('/');
        const folder = slash >= 0 ? rest.slice(0, slash + 1) : undefined;
        const name = folder ?? rest;
        const lo = prefix + name;
        const q = this.db(ARTIFACTS).count<{ n: number | string }[]>({ n: '*' }).sum({ size: 'size' }).max({ last: 'last_access' });
        const agg = (folder ? this.range(q, remote, { key: lo, inclusive: true }, upperBound(lo)) : q.where({ remote, key: lo })).first() as unknown as Promise<{ n: number | string; size: number | string | null; last: number | string | null }>;
        const row = await agg;
        children.push({ name, kind: folder ? 'folder' : 'artifact', count: Number(row.n), size: Number(row.size ?? 0), lastAccess: Number(row.last ?? 0) });
        from = folder ? { key: upperBound(lo), inclusive: true } : { key: lo, inclusive: false };
      }
      return children;
    });
  }

  async search(remote: string, prefix: string, text: string, options: { limit: number; after?: string }): Promise<ArtifactRecord[]> {
    const rows = await this.run('searchArtifacts', () => {
      const q = this.range(this.db<Row>(ARTIFACTS), remote, { key: options.after ?? prefix, inclusive: options.after === undefined }, prefix === '' ? undefined : upperBound(prefix));
      // instr/strpos: a plain substring test, with no LIKE wildcards or case folding to escape.
      q.whereRaw(this.collate ? 'strpos(key, ?) > 0' : 'instr(key, ?) > 0', [text]);
      return q.orderByRaw(`key${this.collate}`).orderBy('variant').limit(options.limit);
    });
    return (rows as Row[]).map(fromRow);
  }

  async variants(remote: string, key: string): Promise<ArtifactRecord[]> {
    const rows = await this.run('artifactVariants', () => this.db<Row>(ARTIFACTS).where({ remote, key }).orderBy('variant'));
    return (rows as Row[]).map(fromRow);
  }

  async purge(target: PurgeTarget): Promise<PurgedRow[]> {
    return this.run('purge', () => this.db.transaction(async (trx) => {
      const q = () => {
        const b = trx(ARTIFACTS);
        if ('key' in target) b.where({ remote: target.remote, key: target.key });
        else if ('prefix' in target) this.range(b, target.remote, { key: target.prefix, inclusive: true }, target.prefix === '' ? undefined : upperBound(target.prefix));
        else if (target.remote !== undefined) b.where({ remote: target.remote });
        return b;
      };
      const rows = await q().select('remote', 'key', 'variant', 'digest', 'size') as { remote: string; key: string; variant: string; digest: string; size: number | string }[];
      await q().delete();
      return rows.map((r) => ({ remote: r.remote, key: r.key, variant: r.variant, digest: r.digest, size: Number(r.size) }));
    }));
  }

  async unreferenced(digests: readonly string[]): Promise<string[]> {
    const unique = [...new Set(digests)];
    const still = new Set<string>();
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.run('unreferenced', () => this.db(ARTIFACTS).distinct('digest').whereIn('digest', unique.slice(i, i + 500))) as { digest: string }[];
      for (const r of rows) still.add(r.digest);
    }
    return unique.filter((d) => !still.has(d));
  }
}

class KnexStats implements StatsStore {
  constructor(private readonly db: Knex, private readonly run: Run) {}

  async add(batch: readonly StatsIncrement[]): Promise<void> {
    if (batch.length === 0) return;
    // NOTE: rows in primary-key order, so two replicas adding overlapping batches queue, not deadlock.
    const ordered = [...batch].sort((a, b) => a.period - b.period || cmp(a.remote, b.remote) || cmp(a.kind, b.kind) || cmp(a.name, b.name));
    await this.run('addStats', () => this.db.transaction(async (trx) => {
      for (const s of ordered) {
        await trx(STATS).insert({ period: s.period, remote: s.remote, kind: s.kind, name: s.name, requests: s.requests, bytes: s.bytes })
          .onConflict(['period', 'remote', 'kind', 'name'])
          .merge({ requests: trx.raw(`${STATS}.requests + ?`, [s.requests]), bytes: trx.raw(`${STATS}.bytes + ?`, [s.bytes]) });
      }
    }));
  }

  async totals(query: { remote?: string; since?: number; until?: number }): Promise<Omit<StatsIncrement, 'period'>[]> {
    const rows = await this.run('statsTotals', () => {
      const q = this.db(STATS).select('remote', 'kind', 'name').sum({ requests: 'requests' }).sum({ bytes: 'bytes' }).groupBy('remote', 'kind', 'name');
      if (query.remote !== undefined) q.where('remote', query.remote);
      if (query.since !== undefined) q.where('period', '>=', query.since);
      if (query.until !== undefined) q.where('period', '<', query.until);
      return q;
    }) as { remote: string; kind: StatsIncrement['kind']; name: string; requests: number | string; bytes: number | string }[];
    return rows.map((r) => ({ remote: r.remote, kind: r.kind, name: r.name, requests: Number(r.requests), bytes: Number(r.bytes) }));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
