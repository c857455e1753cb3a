import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from 'mocha';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { spawnCacheForge, type CliProcess } from '../../src/testing/cli-process.js';
import { skipMissing } from '../../src/testing/skip.js';
import { clearRedisPrefix, createPgDatabase, redisUnavailable, REDIS_URL, runId, startS3, type PgDatabase, type S3Endpoint } from './services.js';

/** Two (or more) `cacheforge start` processes on one S3 prefix, one PostgreSQL database and one Redis prefix. */
export interface Replicas {
  readonly replicas: CliProcess[];
  readonly s3: S3Endpoint;
  readonly db: PgDatabase;
  readonly storage: S3Storage;
  readonly prefix: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  /** Names the temp folder, the S3 prefix and the secret's variable. */
  readonly name: string;
  /** Config keys beside server, log, storage, metadata and plugins (remotes, auth, cache.lock...). */
  readonly config: Record<string, unknown>;
  /** Merged into `cache` beside the shared Redis. */
  readonly cache?: Record<string, unknown>;
  readonly count?: number;
}

/**
 * Starts the replicas, or skips the calling suite by name when Redis or PostgreSQL is missing (a
 * failure under CI=true). Call from a `before` hook with its `this`.
 */
export async function startReplicas(hook: Context, options: ReplicaOptions): Promise<Replicas> {
  const redisMissing = await redisUnavailable();
  if (redisMissing) skipMissing(hook, 'Redis', redisMissing);
  const created = await createPgDatabase();
  if ('error' in created) skipMissing(hook, 'PostgreSQL', created.error);
  const db = created as PgDatabase;
  const s3 = await startS3();
  const prefix = `${options.name}-${runId()}/`;
  const redisPrefix = `cf-test-${runId()}`;
  const storage = new S3Storage(s3.options(prefix));
  await storage.init();
  const dir = await mkdtemp(path.join(tmpdir(), `cf-${options.name}-`));
  const { secretKey, ...s3config } = s3.config(prefix) as { secretKey: string };
  const secretVar = `CF_${options.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_S3_SECRET`;
  process.env[secretVar] = secretKey;
  const config = {
    server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s' },
    log: { level: 'info', requests: false },
    storage: { s3: { ...s3config, secretKey: `\${${secretVar}}`, spool: path.join(dir, 'spool') } },
    metadata: { postgres: { connection: db.url, pool: { max: 4 } }, flushInterval: '200ms' },
    cache: { redis: { url: REDIS_URL, prefix: redisPrefix }, ...options.cache },
    plugins: ['@cacheforge/plugin-generic'],
    ...options.config,
  };
  const file = path.join(dir, 'cacheforge.config.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  const replicas = await Promise.all(Array.from({ length: options.count ?? 2 }, () => spawnCacheForge(file)));
  return {
    replicas, s3, db, storage, prefix, dir,
    async stop() {
      await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
      await s3.stop();
      await db.drop();
      if (!await redisUnavailable()) await clearRedisPrefix(redisPrefix);
      await rm(dir, { recursive: true, force: true });
      delete process.env[secretVar];
    },
  };
}
