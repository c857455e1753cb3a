import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CacheForgeConfig, RemoteConfig } from '../config/config.js';
import type { LoadedPlugin } from '../config/plugin-source.js';
import { KnexMetadataStore } from '../metadata/knex/knex-metadata-store.js';
import { KnexRuntimeRemotes } from '../metadata/knex/knex-runtime-remotes.js';
import { RemoteParser } from '../api/remotes/remote-parser.js';
import { redactText } from '../util/redact.js';
import type { Logger } from '../util/logger.js';

/** The remotes added through the API, as `config check` shows them beside the file's. */
export interface StoredRemotes {
  readonly remotes: Record<string, RemoteConfig>;
  /** Rows that no longer pass the schema (a plugin since removed, say), by name. */
  readonly invalid: Record<string, string>;
  /** Why the metadata store could not be read; absent when it was (or holds nothing yet). */
  readonly unreadable?: string;
}

/**
 * Reads `cf_remotes` from the configured metadata store without changing it: no migration runs,
 * and an SQLite file that does not exist yet is not created (a server that never started holds no
 * runtime remotes).
 */
export async function readStoredRemotes(config: CacheForgeConfig, plugins: ReadonlyMap<string, LoadedPlugin>, log: Logger): Promise<StoredRemotes> {
  const empty: StoredRemotes = { remotes: {}, invalid: {} };
  const sqlite = config.metadata.sqlite;
  if (sqlite && (sqlite.filename === ':memory:' || !existsSync(path.resolve(sqlite.filename)))) return empty;
  const pg = config.metadata.postgres;
  const store = sqlite
    ? new KnexMetadataStore({ dialect: 'sqlite', filename: sqlite.filename })
    : pg ? new KnexMetadataStore({ dialect: 'postgres', connection: pg.connection, pool: { max: 1 }, schema: pg.schema }) : undefined;
  if (!store) return empty;
  try {
    const rows = await withinBound(async () => {
      if (!(await store.knex.schema.hasTable('cf_remotes'))) return [];
      return new KnexRuntimeRemotes(store.knex, (_op, fn) => Promise.resolve(fn())).list();
    });
    const parser = new RemoteParser(config, plugins, log);
    const remotes: Record<string, RemoteConfig> = {};
    const invalid: Record<string, string> = {};
    for (const row of rows) {
      try {
        remotes[row.name] = await parser.parse(row.name, row.definition, { ...config.remotes, ...remotes });
      } catch (err) {
        invalid[row.name] = redactText((err as Error).message);
      }
    }
    return { remotes, invalid };
  } catch (err) {
    return { ...empty, unreadable: `${store.name}: ${redactText((err as Error).message)}` };
  } finally {
    // Bounded too: a connection attempt still pending would keep `config check` from exiting.
    await withinBound(() => store.close(), 2000).catch(() => undefined);
  }
}

/** A store that does not answer (a PostgreSQL host that drops packets) must not hang the check. */
async function withinBound<T>(read: () => Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms); });
  try {
    return await Promise.race([read(), late]);
  } finally {
    clearTimeout(timer);
  }
}
