import knexFactory, { type Knex } from 'knex';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { cfError } from '../../errors/errors.js';
import { migrationSource } from './migrations/index.js';
import type { AccessCount, ArtifactId, ArtifactRecord, MetadataStore, NewArtifactRecord } from '../metadata.js';

const TABLE = 'cf_artifacts';

export interface Row {
  remote: string; key: string; variant: string; digest: string; size: number | string;
  content_type: string | null; headers: string; upstream_etag: string | null; upstream_last_modified: string | null;
  class: string; fetched_at: number | string; checked_at: number | string; hits: number | string; last_access: number | string;
}

/** Where a {@link KnexMetadataStore} keeps its data. */
export type KnexMetadataOptions =
  | { readonly dialect: 'sqlite'; readonly filename: string }
  | {
    readonly dialect: 'postgres'; readonly connection: string | Knex.PgConnectionConfig; readonly pool?: { max?: number };
    /** Schema of the tables (created if missing). Default public. */
    readonly schema?: string;
  };

/** knex prints pool errors itself; every failure already reaches the caller as CF_ERR_METADATA_BACKEND. */
const QUIET = { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined };

/** How long `init` keeps retrying while another replica runs the migrations. */
const MIGRATION_RETRY_MS = 30_000;

/** The metadata catalogue over knex: SQLite embedded, PostgreSQL for replicas; one set of migrations. */
export class KnexMetadataStore implements MetadataStore {
  readonly name: string;
  private readonly db: Knex;
  private readonly schema?: string;
  private readonly pgConnection?: string | Knex.PgConnectionConfig;

  constructor(options: KnexMetadataOptions) {
    this.name = options.dialect;
    if (options.dialect === 'sqlite') {
      if (options.filename !== ':memory:') mkdirSync(path.dirname(path.resolve(options.filename)), { recursive: true });
      this.db = knexFactory({
        client: 'better-sqlite3',
        connection: { filename: options.filename },
        useNullAsDefault: true,
        pool: {
          // NOTE: WAL lets readers proceed while the batch writer commits; busy_timeout absorbs the
          // rare overlap instead of failing with SQLITE_BUSY.
          afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
            try {
              conn.pragma('journal_mode = WAL');
              conn.pragma('synchronous = NORMAL');
              conn.pragma('busy_timeout = 5000');
              done(null, conn);
            } catch (err) { done(err as Error, conn); }
          },
        },
      });
    } else {
      this.schema = options.schema ?? 'public';
      this.pgConnection = options.connection;
      this.db = knexFactory({
        client: 'pg', connection: options.connection, searchPath: [this.schema], log: QUIET,
        pool: { min: 0, max: options.pool?.max ?? 10 },
      });
    }
  }

  /** The connection pool, shared with the management queries (`knex-management-store.ts`). */
  get knex(): Knex { return this.db; }

  async init(): Promise<void> {
    await this.wrap('init', () => this.pgConnection === undefined ? this.migrate() : this.migrateAlone(this.pgConnection));
  }

  /**
   * Runs the migrations while holding a PostgreSQL advisory lock of this schema, on a connection
   * of its own (so even a pool of one cannot deadlock). knex's own lock is not enough: replicas
   * starting together can each create the lock table's row, after which knex sees the table as
   * locked forever.
   */
  private async migrateAlone(connection: string | Knex.PgConnectionConfig): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection as object);
    await client.connect();
    const key = `cacheforge:migrations:${this.schema}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      await this.db.raw('CREATE SCHEMA IF NOT EXISTS ??', [this.schema ?? 'public']).catch(ignoreConcurrentCreate);
      await this.migrate();
    } finally {
      // Ending the session releases the lock too; the explicit unlock just makes it prompt.
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  }

  private async migrate(): Promise<void> {
    // A replica of an older version (without the advisory lock) may still hold knex's lock: wait for it.
    const deadline = Date.now() + MIGRATION_RETRY_MS;
    for (;;) {
      try {
        await this.db.migrate.latest({ migrationSource, tableName: 'cf_migrations', schemaName: this.schema });
        return;
      } catch (err) {
        if (Date.now() > deadline || !isMigrationRace(err)) throw err;
        await sleep(100 + Math.random() * 200);
      }
    }
  }

  async getArtifact(id: ArtifactId): Promise<ArtifactRecord | undefined> {
    const row = await this.wrap('getArtifact', () => this.db<Row>(TABLE).where(whereId(id)).first());
    return row ? fromRow(row) : undefined;
  }

  async putArtifact(r: NewArtifactRecord): Promise<void> {
    const row = {
      remote: r.remote, key: r.key, variant: r.variant, digest: r.digest, size: r.size,
      content_type: r.contentType ?? null, headers: JSON.stringify(r.headers), upstream_etag: r.upstreamEtag ?? null,
      upstream_last_modified: r.upstreamLastModified ?? null, class: r.class, fetched_at: r.fetchedAt, checked_at: r.checkedAt,
    };
    await this.wrap('putArtifact', () => this.db(TABLE).insert({ ...row, hits: 0, last_access: 0 })
      .onConflict(['remote', 'key', 'variant']).merge(Object.keys(row).filter((k) => !['remote', 'key', 'variant'].includes(k))));
  }

  async markChecked(id: ArtifactId, checkedAt: number): Promise<void> {
    await this.wrap('markChecked', () => this.db(TABLE).where(whereId(id)).update({ checked_at: checkedAt }));
  }

  async deleteArtifact(id: ArtifactId): Promise<boolean> {
    return (await this.wrap('deleteArtifact', () => this.db(TABLE).where(whereId(id)).delete())) > 0;
  }

  async recordAccess(batch: readonly AccessCount[]): Promise<void> {
    if (batch.length === 0) return;
    // NOTE: rows are locked in key order, so two replicas flushing overlapping batches wait for
    // each other instead of deadlocking.
    const ordered = [...batch].sort(compareIds);
    await this.wrap('recordAccess', () => this.db.transaction(async (trx) => {
      for (const a of ordered) {
        await trx(TABLE).where(whereId(a)).update({
          hits: trx.raw('hits + ?', [a.hits]),
          last_access: trx.raw('CASE WHEN last_access > ? THEN last_access ELSE ? END', [a.lastAccess, a.lastAccess]),
        });
      }
    }));
  }

  async listArtifacts(query: { remote?: string; afterKey?: string; limit: number }): Promise<ArtifactRecord[]> {
    const rows = await this.wrap('listArtifacts', () => {
      const q = this.db<Row>(TABLE).orderBy([{ column: 'remote' }, { column: 'key' }, { column: 'variant' }]).limit(query.limit);
      if (query.remote !== undefined) q.where('remote', query.remote);
      if (query.afterKey !== undefined) q.where('key', '>', query.afterKey);
      return q;
    });
    return rows.map(fromRow);
  }

  async countBlobReferences(digest: string): Promise<number> {
    const row = await this.wrap('countBlobReferences', () => this.db(TABLE).where({ digest }).count<{ n: number | string }[]>({ n: '*' }).first());
    return Number(row?.n ?? 0);
  }

  async ping(): Promise<void> {
    await this.wrap('ping', () => this.db.raw('select 1'));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  private async wrap<T>(op: string, fn: () => PromiseLike<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw cfError('CF_ERR_METADATA_BACKEND', `${this.name} metadata ${op} failed: ${(err as Error).message}`, { op: `metadata.${op}`, cause: err });
    }
  }
}

function compareIds(a: ArtifactId, b: ArtifactId): number {
  return a.remote < b.remote ? -1 : a.remote > b.remote ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0;
}

function isMigrationRace(err: unknown): boolean {
  const { name, code, message } = err as { name?: string; code?: string; message?: string };
  // MigrationLocked; unique_violation / duplicate_table / duplicate_object (the table's row type)
  // from two replicas creating the migrations or lock table at once.
  return name === 'MigrationLocked' || code === '23505' || code === '42P07' || code === '42710' || /already locked/i.test(message ?? '');
}

function ignoreConcurrentCreate(err: unknown): void {
  // unique_violation or duplicate_schema: another replica created it first.
  const code = (err as { code?: string }).code;
  if (code !== '23505' && code !== '42P06') throw err;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function whereId(id: ArtifactId) {
  return { remote: id.remote, key: id.key, variant: id.variant };
}

export function fromRow(row: Row): ArtifactRecord {
  // NOTE: pg returns bigint columns as strings; SQLite as numbers.
  return {
    remote: row.remote, key: row.key, variant: row.variant, digest: row.digest, size: Number(row.size),
    contentType: row.content_type ?? undefined, headers: JSON.parse(row.headers) as Record<string, string>,
    upstreamEtag: row.upstream_etag ?? undefined, upstreamLastModified: row.upstream_last_modified ?? undefined,
    class: row.class === 'immutable' ? 'immutable' : 'mutable',
    fetchedAt: Number(row.fetched_at), checkedAt: Number(row.checked_at), hits: Number(row.hits), lastAccess: Number(row.last_access),
  };
}
