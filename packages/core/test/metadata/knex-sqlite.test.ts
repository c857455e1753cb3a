import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KnexMetadataStore } from '../../src/metadata/knex/knex-metadata-store.js';
import { metadataSuite } from '../../../conformance/src/index.js';

const files = new Map<unknown, string>();
metadataSuite('KnexMetadataStore on SQLite', {
  async create() {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-meta-'));
    const filename = path.join(dir, 'm.db');
    const store = new KnexMetadataStore({ dialect: 'sqlite', filename });
    files.set(store, filename);
    return store;
  },
  // NOTE: no `connectAgain`: SQLite is the single-process backend, and better-sqlite3 is synchronous,
  // so a second connection in the same process blocks the thread its lock holder needs.
  destroy: async (store) => rm(path.dirname(files.get(store)!), { recursive: true, force: true }),
});
