import type { Knex } from 'knex';

/** The artifacts catalogue: one row per (remote, key, variant), pointing at a blob. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cf_artifacts', (t) => {
    t.string('remote', 64).notNullable();
    t.text('key').notNullable();
    t.string('variant', 255).notNullable().defaultTo('');
    t.string('digest', 64).notNullable();
    t.bigInteger('size').notNullable();
    t.string('content_type', 255);
    t.text('headers').notNullable().defaultTo('{}');
    t.text('upstream_etag');
    t.string('upstream_last_modified', 64);
    t.string('class', 16).notNullable();
    t.bigInteger('fetched_at').notNullable();
    t.bigInteger('checked_at').notNullable();
    t.bigInteger('hits').notNullable().defaultTo(0);
    t.bigInteger('last_access').notNullable().defaultTo(0);
    t.primary(['remote', 'key', 'variant']);
    t.index(['digest']);
    t.index(['last_access']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cf_artifacts');
}
