import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as Minio from 'minio';
import { spawnCacheForge, type CliProcess } from '../../src/testing/cli-process.js';
import { FaultUpstream, type FaultMode } from '../../src/testing/fault-upstream.js';
import { request, type Fetched } from '../../src/testing/http.js';
import { runCli } from '../cli/run-cli.js';
import { createPgDatabase, PG_ADMIN_URL, redisUnavailable, runId, startS3rver, type S3Endpoint } from '../support/services.js';
import { freePort, hasProgram } from '../../src/testing/processes.js';
import { skipMissing } from '../../src/testing/skip.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { waitFor } from '../../src/testing/wait.js';

const run = runId();
/** One sentinel per place a secret can live; none may show anywhere Cache Forge writes. */
const SECRETS = {
  urlPassword: `SntlUrlPw${run}`,
  header: `SntlHeader${run}`,
  dockerUser: `sntldockeruser${run}`,
  dockerPassword: `SntlDockerPw${run}`,
  npmToken: `SntlNpmToken${run}`,
  s3Access: `SNTLS3ACCESS${run}`.toUpperCase(),
  s3Secret: `SntlS3Secret${run}`,
  pgPassword: `SntlPgPw${run}`,
  redisPassword: `SntlRedisPw${run}`,
  locationPassword: `SntlLocPw${run}`,
  signature: `SntlSignature${run}`,
} as const;

/** Every sentinel, and the encodings a leak could take (Basic auth, percent-encoding). */
const FORMS = [
  ...Object.values(SECRETS),
  Buffer.from(`${SECRETS.dockerUser}:${SECRETS.dockerPassword}`).toString('base64'),
  Buffer.from(`user:${SECRETS.urlPassword}`).toString('base64'),
];

function leaks(text: string | Buffer): string[] {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  return FORMS.filter((form) => s.includes(form));
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(path.join(entry.parentPath, entry.name));
  return out;
}

const MODES: readonly FaultMode[] = ['rst-mid-body', 'close-after-headers', 'length-too-long', 'garbage', 'rst-mid-chunk'];
const STATUSES = [200, 403, 500] as const;

describe('security: secrets, tested as a whole', function () {
  this.timeout(120_000);
  let upstream: FaultUpstream;
  let s3: S3Endpoint;
  let redis: ChildProcess | undefined;
  let redisPort: number;
  let dir: string;
  let configFile: string;
  let cf: CliProcess;
  const responses: { what: string; res: Fetched }[] = [];
  let exitCode: number | null = null;

  before(async function () {
    if (!hasProgram('redis-server')) skipMissing(this, 'redis-server', 'not on PATH');
    dir = await mkdtemp(path.join(tmpdir(), 'cf-secrets-'));
    // A Redis that demands the sentinel password: the URL's credentials are really used.
    redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', SECRETS.redisPassword, '--dir', dir], { stdio: 'ignore' });
    const redisUrl = `redis://:${SECRETS.redisPassword}@127.0.0.1:${redisPort}`;
    await waitFor('redis-server', async () => (await redisUnavailable(redisUrl)) === undefined, 10_000);
    // s3rver with the sentinel key pair registered: S3 requests are really signed with it.
    s3 = await startS3rver();
    const require = createRequire(import.meta.url);
    const account = require(path.join(path.dirname(require.resolve('@20minutes/s3rver/package.json')), 'lib/models/account.js')) as { DUMMY_ACCOUNT: { createKeyPair(a: string, s: string): void } };
    account.DUMMY_ACCOUNT.createKeyPair(SECRETS.s3Access, SECRETS.s3Secret);

    upstream = await new FaultUpstream().start();
    upstream.set('/ok.tar.gz', { body: Buffer.from('a whole artifact\n') });
    for (const mode of MODES) {
      for (const status of STATUSES) {
        const p = `/${mode}-${status}.tar.gz`;
        upstream.set(p, { body: Buffer.alloc(2000, 'b') });
        upstream.faults.set(p, { mode, status });
      }
    }
    upstream.redirects.set('/to-refused.tar.gz', `http://u:${SECRETS.locationPassword}@127.0.0.1:1/x.tar.gz?X-Amz-Signature=${SECRETS.signature}&token=${SECRETS.signature}`);
    upstream.redirects.set('/to-metadata.tar.gz', `http://u:${SECRETS.locationPassword}@169.254.169.254/latest/?token=${SECRETS.signature}`);

    const s3config = s3.config(`secrets-${run}/`) as Record<string, unknown>;
    process.env.CF_SECRETS_TEST_S3 = SECRETS.s3Secret;
    process.env.CF_SECRETS_TEST_NPM = SECRETS.npmToken;
    process.env.CF_SECRETS_TEST_REDIS = redisUrl;
    const withPassword = new URL(upstream.url);
    withPassword.username = 'user'; withPassword.password = SECRETS.urlPassword;
    const config = {
      server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s' },
      log: { level: 'trace', requests: true },
      // Never marked down by the faults below: the refused redirects after them must reach the upstream.
      upstream: { downAfter: 0 },
      storage: { s3: { ...s3config, accessKey: SECRETS.s3Access, secretKey: '${CF_SECRETS_TEST_S3}', spool: path.join(dir, 'spool') } },
      metadata: { sqlite: { filename: path.join(dir, 'cacheforge.db') }, flushInterval: '100ms' },
      cache: { redis: { url: '${CF_SECRETS_TEST_REDIS}', prefix: `cf-secrets-${run}` } },
      plugins: ['@cacheforge/plugin-generic', '@cacheforge/plugin-npm', '@cacheforge/plugin-docker'],
      remotes: {
        files: { type: 'generic', upstream: withPassword.href, headers: { 'x-api-key': SECRETS.header }, client: { retries: 1, responseTimeout: '2s', idleTimeout: '2s' } },
        js: { type: 'npm', upstream: upstream.url, token: '${CF_SECRETS_TEST_NPM}', client: { retries: 0 } },
        hub: { type: 'docker', upstream: upstream.url, username: SECRETS.dockerUser, password: SECRETS.dockerPassword, client: { retries: 0 } },
      },
    };
    configFile = path.join(dir, 'cacheforge.config.json');
    await writeFile(configFile, JSON.stringify(config, null, 2));
    cf = await spawnCacheForge(configFile);

    const get = async (what: string, p: string) => { responses.push({ what, res: await request(`${cf.url}${p}`) }); };
    await get('whole', '/files/ok.tar.gz');
    await get('whole again', '/files/ok.tar.gz');
    for (const mode of MODES) for (const status of STATUSES) await get(`${mode} ${status}`, `/files/${mode}-${status}.tar.gz`);
    await get('redirect with credentials', '/files/to-refused.tar.gz');
    await get('redirect to metadata', '/files/to-metadata.tar.gz');
    await get('npm document', '/js/some-package');
    await get('npm tarball', '/js/some-package/-/some-package-1.0.0.tgz');
    await get('docker manifest', '/v2/hub/library/x/manifests/latest');
    await get('metrics', '/-/metrics');
    await get('ready', '/-/ready');
    await waitFor('the access records flushed', () => cf.output().includes('"/files/ok.tar.gz"'), 10_000);
    exitCode = await cf.stop('SIGTERM');
  });

  after(async () => {
    await cf?.stop('SIGKILL');
    await upstream?.stop();
    await s3?.stop();
    if (redis && redis.exitCode === null) { const exited = new Promise((r) => redis!.once('exit', r)); redis.kill('SIGKILL'); await exited; }
    for (const name of ['CF_SECRETS_TEST_S3', 'CF_SECRETS_TEST_NPM', 'CF_SECRETS_TEST_REDIS']) delete process.env[name];
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the run really went through faults, refused redirects, the backends and a clean shutdown', () => {
    const out = cf.output();
    expect(exitCode).to.equal(0);
    expect(responses.find((r) => r.what === 'whole again')!.res.headers['x-cache-status']).to.equal('HIT');
    expect(responses.find((r) => r.what === 'redirect with credentials')!.res.status).to.equal(502);
    expect(out).to.contain('CF_ERR_UPSTREAM_REDIRECT');
    expect(out).to.contain('"level":"warn"');
    expect(out).to.contain('shutting down');
  });

  it('no sentinel in any log line, at any level, through faults and shutdown', () => {
    expect(leaks(cf.output())).to.deep.equal([]);
  });

  it('no sentinel in any response body or header, /-/metrics included', () => {
    for (const { what, res } of responses) {
      expect(leaks(res.body), `${what}: body`).to.deep.equal([]);
      expect(leaks(JSON.stringify(res.headers)), `${what}: headers`).to.deep.equal([]);
    }
    expect(responses.find((r) => r.what === 'metrics')!.res.body.toString()).to.contain('cacheforge');
  });

  it('no sentinel in the SQLite file, the spool, or a blob name', async () => {
    const files = await filesUnder(dir);
    for (const file of files.filter((f) => /cacheforge\.db/.test(f))) expect(leaks(await readFile(file)), file).to.deep.equal([]);
    expect(files.some((f) => f.endsWith('cacheforge.db'))).to.equal(true);
    expect(leaks(files.join('\n'))).to.deep.equal([]);
    const storage = new S3Storage(s3.options(`secrets-${run}/`));
    await storage.init();
    const names: string[] = [];
    for await (const item of storage.client.listObjectsV2(storage.bucket, '', true) as AsyncIterable<Minio.BucketItem>) if (item.name) names.push(item.name);
    expect(names.some((n) => n.includes('/sha256/'))).to.equal(true, names.join(', '));
    expect(leaks(names.join('\n'))).to.deep.equal([]);
  });

  it('no sentinel in `cacheforge config check` output', async () => {
    const pg = new URL(PG_ADMIN_URL);
    pg.password = SECRETS.pgPassword;
    const pgConfig = path.join(dir, 'pg.config.json');
    const base = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(pgConfig, JSON.stringify({ ...base, metadata: { postgres: { connection: pg.href } } }));
    for (const file of [configFile, pgConfig]) {
      const result = await runCli(['config', 'check', '--config', file], { cwd: dir });
      expect(result.code, result.stderr).to.equal(0);
      expect(leaks(result.stdout + result.stderr), file).to.deep.equal([]);
    }
  });

  it('no sentinel in a run on PostgreSQL whose URL carries a password, through faults and shutdown', async function () {
    const db = await createPgDatabase();
    if ('error' in db) skipMissing(this, 'PostgreSQL', db.error);
    try {
      // The server trusts loopback, so the sentinel password is sent and ignored: a real connection.
      const pg = new URL(db.url);
      pg.password = SECRETS.pgPassword;
      const base = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
      const pgRun = path.join(dir, 'pg-run.config.json');
      await writeFile(pgRun, JSON.stringify({ ...base, metadata: { postgres: { connection: pg.href, pool: { max: 2 } }, flushInterval: '100ms' } }));
      const onPg = await spawnCacheForge(pgRun);
      const answers: Fetched[] = [];
      for (const p of ['/files/ok.tar.gz', '/files/ok.tar.gz', '/files/rst-mid-body-200.tar.gz', '/files/to-refused.tar.gz', '/-/ready', '/-/metrics']) {
        answers.push(await request(`${onPg.url}${p}`));
      }
      expect(answers[1]!.headers['x-cache-status']).to.equal('HIT');
      expect(JSON.parse(answers[4]!.body.toString()).checks.metadata).to.equal('ok');
      expect(await onPg.stop('SIGTERM')).to.equal(0);
      expect(onPg.output()).to.match(/"metadata":"postgres/);
      expect(leaks(onPg.output())).to.deep.equal([]);
      for (const a of answers) expect(leaks(a.body.toString() + JSON.stringify(a.headers))).to.deep.equal([]);
    } finally {
      await db.drop();
    }
  });

  it('no sentinel when the start fails (PostgreSQL refuses, config invalid)', async () => {
    const pg = new URL(PG_ADMIN_URL);
    pg.password = SECRETS.pgPassword;
    pg.port = String(await freePort()); // nothing listens: the start fails connecting with the sentinel password
    const base = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    const failing = path.join(dir, 'failing.config.json');
    await writeFile(failing, JSON.stringify({ ...base, metadata: { postgres: { connection: pg.href } } }));
    const failed = await runCli(['start', '--config', failing, '--port', '0'], { cwd: dir });
    expect(failed.code).to.not.equal(0);
    expect(leaks(failed.stdout + failed.stderr)).to.deep.equal([]);

    const invalid = path.join(dir, 'invalid.config.json');
    await writeFile(invalid, JSON.stringify({ ...base, remotes: { files: { ...(base.remotes as Record<string, Record<string, unknown>>).files, upstreem: 'x', client: { retries: 'many' } } } }));
    const refused = await runCli(['start', '--config', invalid, '--port', '0'], { cwd: dir });
    expect(refused.code).to.equal(2);
    expect(leaks(refused.stdout + refused.stderr)).to.deep.equal([]);
  });
});
