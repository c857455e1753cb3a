import { expect } from 'chai';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { spawnCacheForge, type CliProcess } from '../../src/testing/cli-process.js';
import { skipMissing } from '../../src/testing/skip.js';
import { waitFor } from '../../src/testing/wait.js';
import { GatedUpstream } from '../support/gated-upstream.js';
import { clearRedisPrefix, createPgDatabase, redisUnavailable, REDIS_URL, runId, startS3, type PgDatabase, type S3Endpoint } from '../support/services.js';

const MiB = 1024 * 1024;
const SECRET = `cluster-secret-${randomBytes(12).toString('hex')}`;
const SECRET_HEADER = 'x-cacheforge-cluster-secret';

// The generic format, with each body checked against the sha256 the upstream's `x-checksum` announces.
const CHECKED_PLUGIN = `export default {
  name: 'checked', core: '^0.1.0', description: 'files checked against x-checksum',
  classes: { immutable: ['.'] },
  createHandler(remote) {
    return {
      canHandle: (req) => ({ kind: 'cached', key: req.path }),
      fetch: (req, route, ctx) => ctx.pipeline.serve(req, route, { url: remote.upstream.href + req.rawPath }, { verify: { kind: 'header', header: 'x-checksum' } }),
    };
  },
};
`;

/** One client's download: what the upstream had sent at its first byte, and how it ended. */
interface Download {
  sentAtFirstByte?: number;
  status?: number;
  /** The response ended cleanly (every announced byte and a clean end). */
  complete: boolean;
  /** It ended by a broken connection. */
  broken: boolean;
  size: number;
  sha256?: string;
}

function download(url: string, sentNow: () => number): { result: Download; done: Promise<Download> } {
  const result: Download = { complete: false, broken: false, size: 0 };
  const done = new Promise<Download>((resolve) => {
    const hash = createHash('sha256');
    const req = http.get(url, { agent: false }, (res) => {
      result.status = res.statusCode;
      res.on('data', (chunk: Buffer) => {
        result.sentAtFirstByte ??= sentNow();
        result.size += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () => { result.complete = res.complete; result.sha256 = hash.digest('hex'); resolve(result); });
      res.on('error', () => { result.broken = true; resolve(result); });
    });
    req.on('error', () => { result.broken = true; resolve(result); });
  });
  return { result, done };
}

/**
 * Replicas on S3 + PostgreSQL + Redis with `cluster.secret`: a replica that loses a key's lock
 * streams the winner's fill to its clients while the upstream is still sending.
 */
describe('scale-out: streaming a fill across replicas', function () {
  this.timeout(180_000);
  let s3: S3Endpoint;
  let db: PgDatabase;
  let dir: string;
  let storage: S3Storage;
  let upstream: GatedUpstream;
  let file: string;
  const running: CliProcess[] = [];
  const prefix = `stream-${runId()}/`;
  const redisPrefix = `cf-test-${runId()}`;

  async function records(key: string): Promise<number> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query('SELECT 1 FROM cf_artifacts WHERE key = $1', [key])).rowCount ?? 0;
    } finally {
      await client.end();
    }
  }
  async function replicas(n: number): Promise<CliProcess[]> {
    const started = await Promise.all(Array.from({ length: n }, () => spawnCacheForge(file)));
    running.push(...started);
    // A replica whose Redis is not connected yet locks per process (degraded): wait until it is shared.
    for (const r of started) {
      await waitFor('the hot cache ready', async () => ((await (await fetch(`${r.url}/-/ready`)).json()) as { checks: { cache: string } }).checks.cache === 'ok', 15_000);
    }
    return started;
  }
  async function stopAll(): Promise<void> {
    await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
  }
  /** Clients spread over the replicas, all asking for `name` at once. */
  function clients(on: CliProcess[], count: number, name: string): Array<{ result: Download; done: Promise<Download> }> {
    return Array.from({ length: count }, (_, i) => download(`${on[i % on.length]!.url}/files/${name}`, () => upstream.sent.get(`/${name}`) ?? 0));
  }
  async function inflight(replica: CliProcess): Promise<number> {
    const text = await (await fetch(`${replica.url}/-/metrics`)).text();
    return Number(/^cacheforge_inflight_fetches\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
  }

  before(async function () {
    const redisMissing = await redisUnavailable();
    if (redisMissing) skipMissing(this, 'Redis', redisMissing);
    const created = await createPgDatabase();
    if ('error' in created) skipMissing(this, 'PostgreSQL', created.error);
    db = created;
    s3 = await startS3();
    storage = new S3Storage(s3.options(prefix));
    await storage.init();
    upstream = await new GatedUpstream().start();
    dir = await mkdtemp(path.join(tmpdir(), 'cf-replica-stream-'));
    await writeFile(path.join(dir, 'checked.mjs'), CHECKED_PLUGIN);
    const { secretKey, ...s3config } = s3.config(prefix) as { secretKey: string };
    process.env.CF_STREAM_TEST_S3_SECRET = secretKey;
    process.env.CF_STREAM_TEST_CLUSTER_SECRET = SECRET;
    const config = {
      server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s' },
      log: { level: 'info', requests: false },
      storage: { s3: { ...s3config, secretKey: '${CF_STREAM_TEST_S3_SECRET}', spool: path.join(dir, 'spool') } },
      metadata: { postgres: { connection: db.url, pool: { max: 4 } }, flushInterval: '200ms' },
      cache: { redis: { url: REDIS_URL, prefix: redisPrefix }, lock: { ttl: '2s', wait: '60s' } },
      cluster: { secret: '${CF_STREAM_TEST_CLUSTER_SECRET}' },
      // Bodies stream at once whatever their size (the default waits for verification up to 16 MiB).
      upstream: { verifyBeforeSend: 0 },
      plugins: [path.join(dir, 'checked.mjs')],
      remotes: { files: { type: 'checked', upstream: upstream.url } },
    };
    file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify(config, null, 2));
  });
  afterEach(async function () {
    this.timeout(60_000);
    await stopAll();
  });
  after(async function () {
    this.timeout(60_000);
    await upstream?.stop();
    await s3?.stop();
    await db?.drop();
    if (!await redisUnavailable()) await clearRedisPrefix(redisPrefix);
    if (dir) await rm(dir, { recursive: true, force: true });
    delete process.env.CF_STREAM_TEST_S3_SECRET;
    delete process.env.CF_STREAM_TEST_CLUSTER_SECRET;
  });

  for (const n of [2, 3]) {
    it(`${n} replicas: every client gets its first byte before the upstream sent half, 1 upstream GET, identical bodies`, async () => {
      const name = `live-${n}.iso`;
      const body = randomBytes(6 * MiB);
      const sha = createHash('sha256').update(body).digest('hex');
      upstream.set(`/${name}`, body, 256 * 1024, { 'x-checksum': `sha256:${sha}` });
      const on = await replicas(n);
      const downloads = clients(on, 4 * n, name);
      // The rest of the body waits until every client on every replica has had a first byte.
      await waitFor('a first byte at every client', () => downloads.every((d) => d.result.sentAtFirstByte !== undefined), 60_000);
      upstream.open(`/${name}`);
      const results = await Promise.all(downloads.map((d) => d.done));
      for (const r of results) {
        expect(r.sentAtFirstByte).to.be.below(body.length / 2);
        expect(r).to.include({ status: 200, complete: true, broken: false, size: body.length, sha256: sha });
      }
      expect(upstream.count(`/${name}`)).to.equal(1);
      await waitFor('the blob in S3', async () => (await storage.stat(sha)) !== undefined, 20_000);
      await waitFor('the record', async () => (await records(name)) === 1, 20_000);
    });
  }

  it('the winner killed mid-fill: the others\' clients get a whole body or a broken connection, and the fetch is taken over', async () => {
    const name = 'killed.iso';
    const body = randomBytes(6 * MiB);
    const sha = createHash('sha256').update(body).digest('hex');
    upstream.set(`/${name}`, body, 256 * 1024, { 'x-checksum': `sha256:${sha}` });
    const on = await replicas(3);
    const downloads = clients(on, 9, name);
    await waitFor('a first byte at every client', () => downloads.every((d) => d.result.sentAtFirstByte !== undefined), 60_000);
    const counts = await Promise.all(on.map(inflight));
    const winner = on[counts.indexOf(1)]!;
    expect(counts.filter((c) => c === 1)).to.have.length(1);
    await winner.stop('SIGKILL');
    running.splice(running.indexOf(winner), 1);
    upstream.open(`/${name}`);
    const results = await Promise.all(downloads.map((d) => d.done));
    const survivors = on.filter((r) => r !== winner);
    for (const [i, r] of results.entries()) {
      if (on[i % on.length] === winner) continue;
      // Never a short clean end: a clean end is the whole, verified body.
      if (r.complete) expect(r).to.include({ size: body.length, sha256: sha });
      else expect(r.broken).to.equal(true);
    }
    // A survivor took the fetch over once the dead winner's lock ran out: a new client gets it whole.
    const after = await Promise.all(survivors.map((r) => download(`${r.url}/files/${name}`, () => 0).done));
    for (const r of after) expect(r).to.include({ status: 200, complete: true, size: body.length, sha256: sha });
    expect(upstream.count(`/${name}`)).to.equal(2);
    await waitFor('the record', async () => (await records(name)) === 1, 20_000);
  });

  it('a body that fails verification at the winner breaks every client\'s connection and stores nothing', async () => {
    const name = 'bad.iso';
    const body = randomBytes(4 * MiB);
    upstream.set(`/${name}`, body, 256 * 1024, { 'x-checksum': `sha256:${'0'.repeat(64)}` });
    const on = await replicas(2);
    const downloads = clients(on, 6, name);
    await waitFor('a first byte at every client', () => downloads.every((d) => d.result.sentAtFirstByte !== undefined), 60_000);
    upstream.open(`/${name}`);
    const results = await Promise.all(downloads.map((d) => d.done));
    for (const r of results) expect(r, JSON.stringify(results)).to.include({ complete: false, broken: true });
    // The winner's attempt and its one retry; the loser fetched nothing itself.
    await waitFor('the winner\'s retry', () => upstream.count(`/${name}`) === 2, 20_000);
    await waitFor('no fill under way', async () => (await Promise.all(on.map(inflight))).every((c) => c === 0), 20_000);
    expect(upstream.count(`/${name}`)).to.equal(2);
    expect(await storage.stat(createHash('sha256').update(body).digest('hex'))).to.equal(undefined);
    expect(await records(name)).to.equal(0);
  });

  it('the internal route answers 401 without the secret, 403 with a wrong one, and leaks nothing', async () => {
    const [replica] = await replicas(1);
    const at = `${replica!.url}/-/internal/fills/anything`;
    const missing = await fetch(at);
    expect(missing.status).to.equal(401);
    const wrong = await fetch(at, { headers: { [SECRET_HEADER]: `${SECRET}x` } });
    expect(wrong.status).to.equal(403);
    const unknown = await fetch(at, { headers: { [SECRET_HEADER]: SECRET } });
    expect(unknown.status).to.equal(404);
    for (const text of [await missing.text(), await wrong.text(), await unknown.text()]) expect(text).to.not.include(SECRET);
    expect(replica!.output()).to.not.include(SECRET);
    const config = await fetch(`${replica!.url}/-/metrics`);
    expect(await config.text()).to.not.include(SECRET);
  });
});
