import type { Knex } from 'knex';
import * as m20261123000000 from './20261123000000_artifacts.js';
import * as m20261203000000 from './20261203000000_management.js';
import * as m20261203120000 from './20261203120000_remotes.js';

// NOTE: migrations are listed in code, not read from a folder: knex records file names with their
// extension, which differ between tsx (.ts) and the build (.js) and would look like corruption.
const MIGRATIONS: Record<string, Knex.Migration> = {
  '20261123000000_artifacts': m20261123000000,
  '20261203000000_management': m20261203000000,
  '20261203120000_remotes': m20261203120000,
};

/** The one set of migrations, for every knex dialect. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};
