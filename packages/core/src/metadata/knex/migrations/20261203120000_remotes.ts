import type { Knex } from 'knex';

/** Remotes added through the management API: their config as sent (JSON), and when it last changed. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cf_remotes', (t) => {
    t.string('name', 64).primary();
    t.text('definition').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cf_remotes');
}
