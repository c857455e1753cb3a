import { expect } from 'chai';
import pg from 'pg';
import { KnexMetadataStore } from '../../src/metadata/knex/knex-metadata-store.js';
import { migrationSource } from '../../src/metadata/knex/migrations/index.js';
import { metadataSuite } from '../../../conformance/src/index.js';
import { usePgDatabase } from '../support/services.js';

describe('KnexMetadataStore on PostgreSQL', function () {
  const db = usePgDatabase();

  metadataSuite('KnexMetadataStore on PostgreSQL', {
    create: async () => new KnexMetadataStore({ dialect: 'postgres', connection: db.url, pool: { max: 4 } }),
    connectAgain: async () => new KnexMetadataStore({ dialect: 'postgres', connection: db.url, pool: { max: 4 } }),
  });

  describe('PostgreSQL specifics', () => {
    it('migrates once when several replicas start together, each in its configured schema', async function () {
      this.timeout(30_000);
      // Eight at once, each with a pool of one: the migration lock must not need a second pooled connection.
      const replicas = Array.from({ length: 8 }, () => new KnexMetadataStore({ dialect: 'postgres', connection: db.url, schema: 'cf_replicas', pool: { max: 1 } }));
      try {
        await Promise.all(replicas.map((r) => r.init()));
        await replicas[0]!.putArtifact({
          remote: 'r', key: 'k', variant: '', digest: 'a'.repeat(64), size: 1, headers: {}, class: 'immutable', fetchedAt: 1, checkedAt: 1,
        });
        expect((await replicas[7]!.getArtifact({ remote: 'r', key: 'k', variant: '' }))?.digest).to.equal('a'.repeat(64));
      } finally {
        await Promise.all(replicas.map((r) => r.close()));
      }
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'cf_replicas' ORDER BY 1");
        expect(tables.rows.map((r: { table_name: string }) => r.table_name)).to.deep.equal(['cf_artifacts', 'cf_migrations', 'cf_migrations_lock', 'cf_remotes', 'cf_stats', 'cf_tokens']);
        // Each migration recorded once, though eight replicas ran them together.
        const migrations = await client.query('SELECT name FROM cf_replicas.cf_migrations ORDER BY name');
        expect(migrations.rows.map((r: { name: string }) => r.name)).to.deep.equal(await migrationSource.getMigrations([]));
      } finally {
        await client.end();
      }
    });

    it('connects with the connection given as fields instead of a URL', async () => {
      const url = new URL(db.url);
      const store = new KnexMetadataStore({
        dialect: 'postgres', pool: { max: 1 },
        connection: { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) || undefined, database: url.pathname.slice(1) },
      });
      try {
        await store.init();
        await store.ping();
        expect(await store.getArtifact({ remote: 'r', key: 'nothing', variant: '' })).to.equal(undefined);
      } finally {
        await store.close();
      }
    });

    it('reports an unreachable database as CF_ERR_METADATA_BACKEND naming the backend', async function () {
      this.timeout(20_000);
      const store = new KnexMetadataStore({ dialect: 'postgres', connection: 'postgres://nobody@127.0.0.1:1/none', pool: { max: 1 } });
      try {
        const err = await store.ping().then(() => undefined, (e: { code?: string; message: string }) => e);
        expect(err?.code).to.equal('CF_ERR_METADATA_BACKEND');
        expect(err?.message).to.match(/^postgres metadata ping failed/);
      } finally {
        await store.close();
      }
    });
  });
});
