// The scale-out services of the benchmark: an S3 endpoint (s3rver started as its own process with
// the tests' setup, or a real one from CF_BENCH_S3_*), a PostgreSQL database of its own and a Redis
// key prefix of its own, all removed at the end.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startProcess, stopProcess, waitFor } from './proc.mjs';

const runId = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * An S3 endpoint: `CF_BENCH_S3_ENDPOINT` (with `_ACCESS_KEY`, `_SECRET_KEY`, `_BUCKET`) when set,
 * else s3rver on 127.0.0.1 (the test suite's setup, run through tsx). Returns { config, label, stop }.
 */
export async function startS3({ root, dir }) {
  const prefix = `bench-${runId()}/`;
  if (process.env.CF_BENCH_S3_ENDPOINT) {
    const url = new URL(process.env.CF_BENCH_S3_ENDPOINT);
    return {
      label: url.host,
      config: {
        endPoint: url.hostname, port: url.port ? Number(url.port) : undefined, useSSL: url.protocol === 'https:', pathStyle: true,
        bucket: process.env.CF_BENCH_S3_BUCKET ?? 'cacheforge-bench', prefix,
        accessKey: process.env.CF_BENCH_S3_ACCESS_KEY, secretKey: process.env.CF_BENCH_S3_SECRET_KEY,
      },
      stop: async () => undefined,
    };
  }
  const script = [
    `const { startS3 } = await import(${JSON.stringify(path.join(root, 'packages/core/test/support/services.ts'))});`,
    'const s3 = await startS3();',
    'console.log("S3 " + JSON.stringify(s3.config()));',
    'process.on("SIGTERM", () => s3.stop().then(() => process.exit(0)));',
  ].join('\n');
  const logFile = path.join(dir, 's3rver.log');
  const child = startProcess(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script], { cwd: path.join(root, 'packages/core'), logFile });
  let config;
  await waitFor('s3rver', async () => {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode}`);
    const line = (await import('node:fs')).readFileSync(logFile, 'utf8').split('\n').find((l) => l.startsWith('S3 '));
    if (line) config = JSON.parse(line.slice(3));
    return !!config;
  }, 30_000);
  return { label: 's3rver 4.0.4 (one Node process)', config: { ...config, prefix }, pid: child.pid, stop: () => stopProcess(child, 'SIGTERM', 5000) };
}

/** A database `cf_bench_<run>` on CF_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test). */
export async function createDatabase({ root }) {
  const pg = createRequire(path.join(root, 'packages/core/package.json'))('pg');
  const admin = process.env.CF_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `cf_bench_${runId()}`;
  const run = async (sql) => {
    const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 5000 });
    await client.connect();
    try { await client.query(sql); } finally { await client.end(); }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A key prefix of its own on CF_BENCH_REDIS_URL (default redis://127.0.0.1:6379), deleted at the end. */
export async function redisPrefix({ root }) {
  const url = process.env.CF_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `cf-bench-${runId()}`;
  return {
    url, prefix,
    async clear() {
      // The built core (the bench builds it first): the same reset the tests use.
      const { RedisCache } = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);
      const cache = new RedisCache({ url, prefix, commandTimeout: 2000 });
      await cache.ready();
      try { await cache.clear(); } finally { await cache.close(); }
    },
  };
}

/** A presigned GET URL of a blob in the bench's S3 (what the storage itself serves, for a baseline). */
export async function presignedBlobUrl({ root, config, sha256 }) {
  const Minio = createRequire(path.join(root, 'packages/core/package.json'))('minio');
  const client = new Minio.Client({
    endPoint: config.endPoint, port: config.port, useSSL: config.useSSL, region: config.region ?? 'us-east-1',
    accessKey: config.accessKey, secretKey: config.secretKey, pathStyle: config.pathStyle ?? true,
  });
  return client.presignedGetObject(config.bucket, `${config.prefix}sha256/${sha256.slice(0, 2)}/${sha256}`, 3600);
}
