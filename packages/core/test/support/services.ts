import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import S3rver from '@20minutes/s3rver';
import pg from 'pg';
import { createClient } from '@keyv/redis';
import type { S3StorageOptions } from '../../src/storage/s3/s3-storage.js';
import { RedisCache } from '../../src/cache/redis/redis-cache.js';
import { freePort } from '../../src/testing/processes.js';
import { skipMissing } from '../../src/testing/skip.js';
import type { ConfigInput } from '../../src/testing/config.js';

/**
 * The real services the scale-out tests run against. PostgreSQL and Redis are the machine's
 * (127.0.0.1:5432 database `test`, 127.0.0.1:6379), shared with other test runs: each run works in
 * its own database / key prefix. S3 is an s3rver started here, or a real endpoint from the
 * environment (`CF_TEST_S3_ENDPOINT=http://minio.lan:9000`, `CF_TEST_S3_ACCESS_KEY`,
 * `CF_TEST_S3_SECRET_KEY`, `CF_TEST_S3_BUCKET`, optional `CF_TEST_S3_REGION`).
 */

/** A unique lowercase suffix for names of this run. */
export function runId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A `storage.s3` config block. */
export type S3ConfigInput = NonNullable<NonNullable<ConfigInput['storage']>['s3']>;

export interface S3Endpoint {
  /** Options for S3Storage, with a prefix of its own. */
  options(prefix?: string): S3StorageOptions;
  /** The same as a `storage.s3` config block. */
  config(prefix?: string): S3ConfigInput;
  stop(): Promise<void>;
}

/** An S3 endpoint: the one the environment names, else an s3rver on 127.0.0.1 with a fresh directory. */
export async function startS3(): Promise<S3Endpoint> {
  const external = process.env.CF_TEST_S3_ENDPOINT;
  const run = runId();
  if (external) {
    const url = new URL(external);
    const base = {
      endPoint: url.hostname, port: url.port ? Number(url.port) : undefined, useSSL: url.protocol === 'https:',
      region: process.env.CF_TEST_S3_REGION ?? 'us-east-1', bucket: process.env.CF_TEST_S3_BUCKET ?? 'cacheforge-test',
      accessKey: required('CF_TEST_S3_ACCESS_KEY'), secretKey: required('CF_TEST_S3_SECRET_KEY'), pathStyle: true,
    };
    return endpoint(base, `cf-test-${run}/`, async () => undefined);
  }
  return startS3rver();
}

/** Holds multipart part uploads (`PUT ...?partNumber=`) while closed: an S3 as slow as a test needs. */
export class UploadGate {
  private closed = true;
  private readonly waiting: (() => void)[] = [];
  /** Part uploads that arrived while closed. */
  held = 0;

  async pass(): Promise<void> {
    if (!this.closed) return;
    this.held += 1;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  open(): void {
    this.closed = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** An s3rver on 127.0.0.1 with a fresh directory (optionally holding part uploads at `gate`). */
export async function startS3rver(options: { gate?: UploadGate } = {}): Promise<S3Endpoint> {
  const run = runId();
  const directory = await mkdtemp(path.join(tmpdir(), 'cf-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, resetOnClose: true });
  // NOTE: s3rver lacks ListMultipartUploads, which minio calls before every multipart upload.
  server.middleware.unshift(async (ctx, next) => {
    if (ctx.method !== 'GET' || !('uploads' in ctx.query) || !/^\/[^/]+\/?$/.test(ctx.path)) return next();
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
      + `<Bucket>${ctx.path.split('/')[1]}</Bucket><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`;
  });
  // NOTE: s3rver reads `bytes=0-0` as `bytes=0-` (it tests `end || Infinity`); real S3 answers one byte.
  server.middleware.unshift(async (ctx, next) => {
    const firstByte = ctx.method === 'GET' && ctx.headers.range === 'bytes=0-0';
    await next();
    if (!firstByte || ctx.status !== 206 || !(ctx.body instanceof Readable)) return;
    const total = /\/(\d+)$/.exec(String(ctx.response.get('content-range')))?.[1];
    let first: Buffer = Buffer.alloc(0);
    for await (const chunk of ctx.body) { first = (chunk as Buffer).subarray(0, 1); break; }
    ctx.body.destroy();
    ctx.body = first;
    ctx.set('Content-Range', `bytes 0-0/${total}`);
  });
  const gate = options.gate;
  if (gate) {
    server.middleware.unshift(async (ctx, next) => {
      if (ctx.method === 'PUT' && 'partNumber' in ctx.query) await gate.pass();
      return next();
    });
  }
  const { port } = await server.run();
  const base = { endPoint: '127.0.0.1', port, useSSL: false, region: 'us-east-1', bucket: `cf-${run}`, accessKey: 'S3RVER', secretKey: 'S3RVER', pathStyle: true };
  return endpoint(base, '', async () => {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });
}

function endpoint(base: Omit<S3StorageOptions, 'prefix' | 'partSize' | 'staleTemporaryAfter'>, runPrefix: string, stop: () => Promise<void>): S3Endpoint {
  const options = (prefix = '') => ({ ...base, prefix: `${runPrefix}${prefix}`, partSize: 5 * 1024 * 1024, staleTemporaryAfter: 24 * 3600_000 });
  return {
    options,
    config: (prefix = '') => {
      const { staleTemporaryAfter: _unused, ...rest } = options(prefix);
      return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as S3ConfigInput;
    },
    stop,
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`CF_TEST_S3_ENDPOINT is set, so ${name} must be too`);
  return value;
}

/** The PostgreSQL server tests use: CF_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test. */
export const PG_ADMIN_URL = process.env.CF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PgDatabase { readonly url: string; drop(): Promise<void> }

/** A database of its own (`cf_test_<run>`), dropped afterwards; undefined when PostgreSQL cannot be reached. */
export async function createPgDatabase(): Promise<PgDatabase | { error: string }> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    return { error: `${PG_ADMIN_URL}: ${(err as Error).message}` };
  }
  const name = `cf_test_${runId()}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A database of its own for the enclosing `describe`, made before its tests and dropped after them;
 * the suite is skipped by name (and fails under CI=true) when PostgreSQL cannot be reached.
 */
export function usePgDatabase(): { readonly url: string } {
  let db: PgDatabase | undefined;
  before(async function () {
    this.timeout(20_000);
    const created = await createPgDatabase();
    if ('error' in created) skipMissing(this, 'PostgreSQL', created.error);
    db = created;
  });
  after(async function () {
    this.timeout(20_000);
    await db?.drop();
  });
  return {
    get url() {
      if (db === undefined) throw new Error('usePgDatabase: the database is made in before(); read url inside a hook or test');
      return db.url;
    },
  };
}

/** The Redis tests use: CF_TEST_REDIS_URL, default redis://127.0.0.1:6379. */
export const REDIS_URL = process.env.CF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis at `url` cannot be used, or undefined when it answers. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | undefined> {
  const client = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    return `${url}: ${(err as Error).message}`;
  } finally {
    if (client.isOpen) await client.close().catch(() => undefined);
  }
}

/** Deletes every key under `prefix` (what a test run wrote). */
export async function clearRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const cache = new RedisCache({ url, prefix, commandTimeout: 2000 });
  await cache.ready();
  try {
    await cache.clear();
  } finally {
    await cache.close();
  }
}

/** A redis-server of a test's own, on a free port, without persistence; it can be stopped and started again. */
export class PrivateRedis {
  private child?: ChildProcess;
  private dir?: string;
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    this.dir ??= await mkdtemp(path.join(tmpdir(), 'cf-redis-'));
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (await redisUnavailable(this.url)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
