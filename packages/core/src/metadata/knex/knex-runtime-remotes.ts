import type { Knex } from 'knex';
import type { RuntimeRemoteRow, RuntimeRemoteStore } from '../management.js';
import type { Run } from './run.js';

const REMOTES = 'cf_remotes';

interface Row { name: string; definition: string; updated_at: number | string }

/** `cf_remotes`: one row per remote added through the API, for SQLite and PostgreSQL alike. */
export class KnexRuntimeRemotes implements RuntimeRemoteStore {
  constructor(private readonly db: Knex, private readonly run: Run) {}

  async list(): Promise<RuntimeRemoteRow[]> {
    const rows = await this.run('listRemotes', () => this.db<Row>(REMOTES).select('*').orderBy('name'));
    return rows.map((r) => ({ name: r.name, definition: JSON.parse(r.definition) as Record<string, unknown>, updatedAt: Number(r.updated_at) }));
  }

  async put(row: RuntimeRemoteRow): Promise<void> {
    await this.run('putRemote', () => this.db(REMOTES)
      .insert({ name: row.name, definition: JSON.stringify(row.definition), updated_at: row.updatedAt })
      .onConflict('name').merge(['definition', 'updated_at']));
  }

  async delete(name: string): Promise<boolean> {
    return await this.run('deleteRemote', () => this.db(REMOTES).where({ name }).delete()) > 0;
  }
}
