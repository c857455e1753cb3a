import type { Knex } from 'knex';

/** API tokens (only their hash) and download statistics, one row per hour, remote and dimension. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cf_tokens', (t) => {
    t.string('id', 32).primary();
    t.string('name', 128).notNullable().unique();
    t.string('hash', 64).notNullable().unique();
    t.text('scopes').notNullable();
    t.text('remotes');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at');
    t.bigInteger('last_used_at');
    t.bigInteger('revoked_at');
  });
  await knex.schema.createTable('cf_stats', (t) => {
    t.bigInteger('period').notNullable();
    t.string('remote', 64).notNullable();
    t.string('kind', 16).notNullable();
    t.string('name', 512).notNullable();
    t.bigInteger('requests').notNullable().defaultTo(0);
    t.bigInteger('bytes').notNullable().defaultTo(0);
    t.primary(['period', 'remote', 'kind', 'name']);
    t.index(['remote', 'kind', 'period']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cf_stats');
  await knex.schema.dropTable('cf_tokens');
}
