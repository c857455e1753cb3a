#!/usr/bin/env node
// Cache Forge benchmark: `pnpm bench` (see bench/README.md). One run, one upstream, the same files
// for every peer: nginx direct (baseline), nginx proxy_cache, Cache Forge and a bare koa route.
//
// Options: --no-build        skip `npx tsc -b` (use the dist/ already built)
//          --cpu-prof DIR    run Cache Forge under `node --cpu-prof`, profile written to DIR on exit
//          --keep            keep the temp dir (configs, logs, caches) for inspection
//          --seconds S       wrk duration of the 1 KiB hits (default 10; 1 MiB hits half of it), for a quick check
// Bounded: wrk runs for a fixed time, every curl has --max-time, and the whole run is stopped
// (non-zero exit) after DEADLINE_MS.
import { mkdtempSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { freePort, ownTempDir, killAllSync, shutdownAll } from './lib/proc.mjs';
import { generateFiles, KiB, MiB } from './lib/fixtures.mjs';
import { startNginx, startFixtureUpstream, proxyCacheConfig, nginxVersion, NGINX } from './lib/nginx.mjs';
import { buildWorkspace, startCacheForge } from './lib/cacheforge.mjs';
import { startBareKoa } from './lib/koa.mjs';
import { RssSampler } from './lib/measure.mjs';
import { prime, smallHits, bigHits, coldMiss, concurrentMisses } from './lib/scenarios.mjs';
import { evaluateGoals, render, writeJson } from './lib/report.mjs';
import { renderWorkers, startCacheForgeWorkers } from './lib/workers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench/results/latest.json');

const SETTINGS = {
  small: { connections: 32, seconds: 10 },
  medium: { connections: 8, seconds: 5 },
  bigRounds: 5,
  concurrentClients: 32,
  hashedClients: 3,
};

/** The upstream's files: one per measurement that must start cold, so nothing is cached by accident. */
const FILES = {
  'k1.bin': KiB,
  'm1.bin': MiB,
  'big-warm.bin': 100 * MiB,
  'big-cold-ngx.bin': 100 * MiB,
  'big-cold-cf.bin': 100 * MiB,
  'big-coldu-ngx.bin': 100 * MiB,
  'big-coldu-cf.bin': 100 * MiB,
  'big-coldu-cfa.bin': 100 * MiB,
  'big-conc-ngx.bin': 100 * MiB,
  'big-conc-cf.bin': 100 * MiB,
};

/** The longest a whole run may take (a normal one takes about 5 minutes on 2 cores). */
const DEADLINE_MS = 30 * 60_000;

const step = (text) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

function preflight() {
  const missing = [];
  for (const [tool, args] of [[NGINX, ['-v']], ['wrk', ['--version']], ['curl', ['--version']]]) {
    try { execFileSync(tool, args, { stdio: 'ignore' }); } catch (err) { if (err.code === 'ENOENT') missing.push(tool); }
  }
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: apt-get install -y nginx wrk curl`);
}

async function main(options) {
  const started = Date.now();
  preflight();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);

  const tmp = mkdtempSync(path.join(tmpdir(), 'cacheforge-bench-'));
  if (!options.keep) ownTempDir(tmp);
  chmodSync(tmp, 0o755); // nginx workers (www-data when run as root) read the files below
  const scratch = path.join(tmp, 'scratch');
  mkdirSync(scratch);
  step(`temp dir ${tmp}; writing ${Object.keys(FILES).length} files (${Object.values(FILES).reduce((a, b) => a + b, 0) / MiB | 0} MiB)`);
  const files = generateFiles(path.join(tmp, 'www/files'), FILES);

  const [directPort, upPort, ngxPort, cfPort, koaPort, cfaPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const { upstream, log, throttle } = await startFixtureUpstream({ tmp, upPort, directPort });
  const ngx = await startNginx('proxy_cache', path.join(tmp, 'nginx-cache'),
    ({ dir, user }) => proxyCacheConfig({ dir, port: ngxPort, upPort, user }), `http://127.0.0.1:${ngxPort}/files/k1.bin`);
  const cf = await startCacheForge({ root: ROOT, dir: path.join(tmp, 'cacheforge'), port: cfPort, upstreamPort: upPort, cpuProfDir: options.cpuProf });
  const cfa = await startCacheForgeWorkers({ root: ROOT, dir: path.join(tmp, 'cacheforge-workers'), port: cfaPort, upstreamPort: upPort });
  const koa = await startBareKoa({ dir: tmp, port: koaPort, files: [files['k1.bin'].path, files['m1.bin'].path] });
  const rss = new RssSampler(cf.pid);
  rss.phase('idle');
  step(`servers up: direct :${directPort}, upstream :${upPort}, nginx proxy_cache :${ngxPort}, Cache Forge :${cfPort} (pid ${cf.pid}), bare koa :${koaPort}`);

  const peers = {
    direct: { label: 'nginx direct', base: `http://127.0.0.1:${directPort}/files/` },
    nginx: { label: 'nginx proxy_cache', base: `http://127.0.0.1:${ngxPort}/files/`, statusHeader: 'x-cache' },
    cacheforge: { label: 'Cache Forge', base: `http://127.0.0.1:${cfPort}/files/`, statusHeader: 'x-cache-status' },
    cfAuto: { label: `Cache Forge, ${cfa.workers} workers`, base: `http://127.0.0.1:${cfaPort}/files/`, statusHeader: 'x-cache-status' },
    koa: { label: 'bare koa route', base: `http://127.0.0.1:${koaPort}/files/` },
  };
  const upstreamPeer = { label: 'upstream (direct)', base: `http://127.0.0.1:${upPort}/files/` };
  const pick = (...ids) => Object.fromEntries(ids.map((id) => [id, peers[id]]));
  const ctx = { scratch, log, upstreamPath: '/files/' };

  const results = { settings: SETTINGS, peers: Object.fromEntries(Object.entries(peers).map(([id, p]) => [id, p.label])) };
  await new Promise((r) => setTimeout(r, 1000));
  results.rssIdle = rss.peaks.idle;

  step('priming the caches (k1, m1, big-warm) on nginx proxy_cache and Cache Forge');
  rss.phase('prime');
  results.prime = {};
  for (const id of ['nginx', 'cacheforge', 'cfAuto']) {
    results.prime[id] = {};
    for (const name of ['k1.bin', 'm1.bin', 'big-warm.bin']) results.prime[id][name] = await prime(peers[id], files[name], name, scratch);
  }

  step('1 KiB warm hits (wrk), 4 peers');
  rss.phase('1KiB');
  results.hits1k = await smallHits(peers, 'k1.bin', { ...SETTINGS.small, log });
  step('1 MiB warm hits (wrk), 4 peers');
  rss.phase('1MiB');
  results.hits1m = await smallHits(peers, 'm1.bin', { ...SETTINGS.medium, log });
  step('100 MiB warm hits (curl), 3 peers');
  rss.phase('100MiB');
  results.hits100m = await bigHits(pick('direct', 'nginx', 'cacheforge'), 'big-warm.bin', { rounds: SETTINGS.bigRounds, log });

  step('cold misses of 100 MiB, upstream throttled to 25 MiB/s');
  rss.phase('cold');
  results.cold = { throttled: {}, unthrottled: {} };
  throttle.on();
  results.cold.throttled.direct = await coldMiss(upstreamPeer, files['big-warm.bin'], 'big-warm.bin', ctx);
  results.cold.throttled.nginx = await coldMiss(peers.nginx, files['big-cold-ngx.bin'], 'big-cold-ngx.bin', ctx);
  results.cold.throttled.cacheforge = await coldMiss(peers.cacheforge, files['big-cold-cf.bin'], 'big-cold-cf.bin', ctx);
  throttle.off();
  step('cold misses of 100 MiB, upstream unthrottled');
  results.cold.unthrottled.direct = await coldMiss(upstreamPeer, files['big-warm.bin'], 'big-warm.bin', ctx);
  results.cold.unthrottled.nginx = await coldMiss(peers.nginx, files['big-coldu-ngx.bin'], 'big-coldu-ngx.bin', ctx);
  results.cold.unthrottled.cacheforge = await coldMiss(peers.cacheforge, files['big-coldu-cf.bin'], 'big-coldu-cf.bin', ctx);
  results.cold.unthrottled.cfAuto = await coldMiss(peers.cfAuto, files['big-coldu-cfa.bin'], 'big-coldu-cfa.bin', ctx);

  step(`${SETTINGS.concurrentClients} concurrent cold misses of one 100 MiB file, upstream throttled`);
  rss.phase('concurrent');
  throttle.on();
  const concurrency = { clients: SETTINGS.concurrentClients, hashed: SETTINGS.hashedClients, ...ctx };
  results.concurrent = {
    nginx: await concurrentMisses(peers.nginx, files['big-conc-ngx.bin'], 'big-conc-ngx.bin', concurrency),
    cacheforge: await concurrentMisses(peers.cacheforge, files['big-conc-cf.bin'], 'big-conc-cf.bin', concurrency),
  };
  throttle.off();

  rss.stop();
  results.rss = { idle: results.rssIdle, peak: rss.peak, peaks: rss.peaks, samples: rss.samples };
  delete results.rssIdle;

  step('stopping the servers');
  await cf.stop();
  await cfa.stop();
  await koa.stop();
  await ngx.stop();
  await upstream.stop();

  results.goals = evaluateGoals(results);
  results.meta = {
    date: new Date().toISOString(), node: process.version, nginx: nginxVersion(),
    cpus: cpus().length, loadavg: loadavg(), seconds: Math.round((Date.now() - started) / 1000),
  };
  if (options.cpuProf) results.meta.cpuProfDir = options.cpuProf;
  const ordered = { meta: results.meta, goals: results.goals, ...results };
  process.stdout.write(`\n${render(ordered)}\n\n${renderWorkers(ordered, cfa.workers)}\n\n`);
  writeJson(RESULTS, ordered);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s${options.keep ? `; temp dir kept: ${tmp}` : ''}`);
}

let values;
try {
  ({ values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, 'cpu-prof': { type: 'string' }, keep: { type: 'boolean' }, seconds: { type: 'string' } } }));
  if (values.seconds) {
    const seconds = Math.max(1, Math.min(60, Number(values.seconds) || SETTINGS.small.seconds));
    SETTINGS.small.seconds = seconds;
    SETTINGS.medium.seconds = Math.max(1, Math.round(seconds / 2));
  }
} catch (err) {
  process.stderr.write(`${err.message}\nusage: pnpm bench [--no-build] [--cpu-prof DIR] [--keep] [--seconds S]\n`);
  process.exit(2);
}

let interrupted = false;
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    step(`${signal}: stopping everything`);
    shutdownAll(5000).finally(() => process.exit(130));
  });
}

const deadline = setTimeout(() => {
  interrupted = true;
  step(`still running after ${DEADLINE_MS / 60_000} min: stopping everything`);
  shutdownAll(5000).finally(() => process.exit(124));
}, DEADLINE_MS);
deadline.unref();
try {
  await main({ build: !values['no-build'], cpuProf: values['cpu-prof'] && path.resolve(values['cpu-prof']), keep: values.keep });
} catch (err) {
  if (!interrupted) step(`FAILED: ${err.stack ?? err}`);
  await shutdownAll(5000);
  process.exitCode = 1;
}
await shutdownAll(5000);
