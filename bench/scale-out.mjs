#!/usr/bin/env node
// Scale-out benchmark: `pnpm bench:scale-out` (see bench/README.md). One run, one upstream, the
// same files for: nginx proxy_cache (the peer), Cache Forge with the embedded defaults (filesystem
// + SQLite + memory) and two Cache Forge replicas on S3 + PostgreSQL + Redis.
//
// Options: --no-build   skip `npx tsc -b`      --keep   keep the temp dir
import { randomBytes } from 'node:crypto';
import { mkdtempSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, ownTempDir, killAllSync, shutdownAll } from './lib/proc.mjs';
import { generateFiles, KiB, MiB } from './lib/fixtures.mjs';
import { startNginx, startFixtureUpstream, proxyCacheConfig, nginxVersion } from './lib/nginx.mjs';
import { buildWorkspace, cacheForgeConfig, startCacheForge } from './lib/cacheforge.mjs';
import { startS3, createDatabase, redisPrefix, presignedBlobUrl } from './lib/scale-services.mjs';
import { prime, smallHits, bigHits, coldMiss, concurrentMisses } from './lib/scenarios.mjs';
import { curl } from './lib/measure.mjs';
import { renderScaleOut } from './lib/scale-report.mjs';
import { writeJson } from './lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench/results/scale-out-latest.json');
const SETTINGS = { small: { connections: 32, seconds: 5 }, medium: { connections: 8, seconds: 5 }, bigRounds: 3, concurrentClients: 32, hashedClients: 3 };
const BIG = 64 * MiB;
const CLUSTER_SECRET = randomBytes(24).toString('hex');
const FILES = {
  'k1.bin': KiB, 'm1.bin': MiB, 'big-warm.bin': BIG,
  'big-cold-ngx.bin': BIG, 'big-cold-emb.bin': BIG, 'big-cold-so.bin': BIG, 'big-conc-so.bin': BIG, 'cross.bin': MiB,
};

const step = (text) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

async function main(options) {
  const started = Date.now();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'cacheforge-bench-scale-'));
  if (!options.keep) ownTempDir(tmp);
  chmodSync(tmp, 0o755);
  const scratch = path.join(tmp, 'scratch');
  mkdirSync(scratch);
  step(`temp dir ${tmp}; writing ${Object.keys(FILES).length} files`);
  const files = generateFiles(path.join(tmp, 'www/files'), FILES);

  const cleanups = [];
  try {
    const [directPort, upPort, ngxPort, embPort, aPort, bPort] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    const { upstream, log, throttle } = await startFixtureUpstream({ tmp, upPort, directPort });
    cleanups.push(() => upstream.stop());
    const ngx = await startNginx('proxy_cache', path.join(tmp, 'nginx-cache'),
      ({ dir, user }) => proxyCacheConfig({ dir, port: ngxPort, upPort, user }), `http://127.0.0.1:${ngxPort}/files/k1.bin`);
    cleanups.push(() => ngx.stop());

    step('starting the scale-out services (S3, a PostgreSQL database, a Redis prefix)');
    const s3 = await startS3({ root: ROOT, dir: tmp });
    cleanups.push(() => s3.stop());
    const db = await createDatabase({ root: ROOT });
    cleanups.push(() => db.drop());
    const redis = await redisPrefix({ root: ROOT });
    cleanups.push(() => redis.clear());

    const emb = await startCacheForge({ root: ROOT, dir: path.join(tmp, 'embedded'), port: embPort, upstreamPort: upPort });
    cleanups.push(() => emb.stop());
    const scaleConfig = (port, name) => ({
      ...cacheForgeConfig({ dir: path.join(tmp, name), port, upstreamPort: upPort }),
      storage: { s3: { ...s3.config, spool: path.join(tmp, name, 'spool') } },
      metadata: { postgres: { connection: db.url, pool: { max: 10 } } },
      cache: { redis: { url: redis.url, prefix: redis.prefix } },
      // A replica that loses a key's lock streams the winner's fill (docs/architecture.md).
      cluster: { secret: CLUSTER_SECRET },
    });
    const replicas = [];
    for (const [port, name] of [[aPort, 'replica-a'], [bPort, 'replica-b']]) {
      const replica = await startCacheForge({ root: ROOT, dir: path.join(tmp, name), port, upstreamPort: upPort, config: scaleConfig(port, name) });
      cleanups.push(() => replica.stop());
      replicas.push(replica);
    }
    step(`servers up: upstream :${upPort}, nginx proxy_cache :${ngxPort}, embedded :${embPort}, replicas :${aPort} :${bPort}, S3 ${s3.label}`);

    const peers = {
      nginx: { label: 'nginx proxy_cache', base: `http://127.0.0.1:${ngxPort}/files/`, statusHeader: 'x-cache' },
      embedded: { label: 'Cache Forge embedded (fs + SQLite + memory)', base: `http://127.0.0.1:${embPort}/files/`, statusHeader: 'x-cache-status' },
      scaleout: { label: 'Cache Forge scale-out (S3 + PostgreSQL + Redis)', base: `http://127.0.0.1:${aPort}/files/`, statusHeader: 'x-cache-status' },
    };
    const replicaB = { label: 'scale-out replica B', base: `http://127.0.0.1:${bPort}/files/`, statusHeader: 'x-cache-status' };
    const ctx = { scratch, log, upstreamPath: '/files/' };
    const results = { settings: SETTINGS, bigMiB: BIG / MiB, s3: s3.label, peers: Object.fromEntries(Object.entries(peers).map(([id, p]) => [id, p.label])) };

    step('priming k1, m1 and big-warm on every peer');
    for (const id of Object.keys(peers)) for (const name of ['k1.bin', 'm1.bin', 'big-warm.bin']) await prime(peers[id], files[name], name, scratch);
    // The storage's own speed, as the ceiling of scale-out hits: the same objects by presigned GET.
    const withS3 = async (name) => ({
      ...peers, s3: { label: `S3 itself (presigned GET, ${s3.label})`, url: await presignedBlobUrl({ root: ROOT, config: s3.config, sha256: files[name].sha256 }) },
    });
    step('1 KiB warm hits (wrk)');
    results.hits1k = await smallHits(peers, 'k1.bin', { ...SETTINGS.small, log });
    step('1 MiB warm hits (wrk)');
    results.hits1m = await smallHits(await withS3('m1.bin'), 'm1.bin', { ...SETTINGS.medium, log });
    step(`${BIG / MiB} MiB warm hits (curl)`);
    results.hitsBig = await bigHits(await withS3('big-warm.bin'), 'big-warm.bin', { rounds: SETTINGS.bigRounds, log });
    results.peers.s3 = `S3 itself (presigned GET, ${s3.label})`;

    step(`${BIG / MiB} MiB cold misses, upstream unthrottled`);
    results.cold = {
      nginx: await coldMiss(peers.nginx, files['big-cold-ngx.bin'], 'big-cold-ngx.bin', ctx),
      embedded: await coldMiss(peers.embedded, files['big-cold-emb.bin'], 'big-cold-emb.bin', ctx),
      scaleout: await coldMiss(peers.scaleout, files['big-cold-so.bin'], 'big-cold-so.bin', ctx),
    };

    step('fetched through replica A, then through replica B');
    const a = await curl(peers.scaleout.base + 'cross.bin');
    const b = await curl(replicaB.base + 'cross.bin');
    results.crossReplica = { a: a.headers['x-cache-status'], b: b.headers['x-cache-status'], upstreamGets: log.getsSince(0, '/files/cross.bin') };

    step(`${SETTINGS.concurrentClients} concurrent misses of one ${BIG / MiB} MiB file over both replicas, upstream throttled to 25 MiB/s`);
    throttle.on();
    results.concurrent = await concurrentMisses(peers.scaleout, files['big-conc-so.bin'], 'big-conc-so.bin', {
      clients: SETTINGS.concurrentClients, hashed: SETTINGS.hashedClients, ...ctx,
      urlFor: (i) => `${i % 2 ? replicaB.base : peers.scaleout.base}big-conc-so.bin`, groups: 2,
    });
    throttle.off();

    results.meta = { date: new Date().toISOString(), node: process.version, nginx: nginxVersion(), cpus: cpus().length, loadavg: loadavg(), seconds: Math.round((Date.now() - started) / 1000) };
    process.stdout.write(`\n${renderScaleOut(results)}\n\n`);
    writeJson(RESULTS, results);
    step(`results written to ${path.relative(process.cwd(), RESULTS)}`);
  } finally {
    step('stopping the servers and removing the database and keys');
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => step(`cleanup: ${err.message}`));
  }
}

let values;
try {
  ({ values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, keep: { type: 'boolean' } } }));
} catch (err) {
  process.stderr.write(`${err.message}\nusage: pnpm bench:scale-out [--no-build] [--keep]\n`);
  process.exit(2);
}
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { step(`${signal}: stopping everything`); shutdownAll(5000).finally(() => process.exit(130)); });
try {
  await main({ build: !values['no-build'], keep: values.keep });
} catch (err) {
  step(`FAILED: ${err.stack ?? err}`);
  process.exitCode = 1;
}
await shutdownAll(5000);
