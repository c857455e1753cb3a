#!/usr/bin/env node
// `pnpm bench:focus`: the two cases issue 21 points 3 and 4 set goals for, repeated so medians can
// be compared, on the same servers `pnpm bench` starts (see bench/README.md):
//   - 100 MiB cold miss, upstream unthrottled: direct, nginx proxy_cache, Cache Forge, `--rounds`
//     times each (a fresh file per round and peer), interleaved;
//   - 1 KiB warm hits: wrk on bare koa, Cache Forge and nginx proxy_cache, `--rounds` times each,
//     interleaved.
// Options: --no-build, --cpu-prof DIR, --keep as in run.mjs; --rounds N (default 3);
//          --only cold|small; --seconds S (wrk duration, default 5).
import { mkdtempSync, chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, ownTempDir, killAllSync, shutdownAll } from './lib/proc.mjs';
import { generateFiles, KiB, MiB } from './lib/fixtures.mjs';
import { startNginx, startFixtureUpstream, proxyCacheConfig, nginxVersion } from './lib/nginx.mjs';
import { buildWorkspace, startCacheForge } from './lib/cacheforge.mjs';
import { startBareKoa } from './lib/koa.mjs';
import { prime, smallHits, coldMiss } from './lib/scenarios.mjs';
import { median } from './lib/measure.mjs';
import { table, writeJson } from './lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench/results/focus-latest.json');
const step = (text) => process.stderr.write(`[focus ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
/** CPU seconds (user + system) a process and its children (nginx's workers) have used so far. */
function cpuSeconds(pid) {
  let ticks = 0;
  const add = (p) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(' ').filter(Boolean)) add(child);
    } catch { /* gone */ }
  };
  add(pid);
  return ticks / 100;
}
const f = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');

async function main(o) {
  if (o.build) step(`built in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'cacheforge-focus-'));
  if (!o.keep) ownTempDir(tmp);
  chmodSync(tmp, 0o755);
  const scratch = path.join(tmp, 'scratch');
  mkdirSync(scratch);
  const specs = { 'k1.bin': KiB, 'big-warm.bin': 100 * MiB };
  if (o.cold) for (let i = 0; i < o.rounds; i++) for (const p of ['ngx', 'cf']) specs[`cold-${p}-${i}.bin`] = 100 * MiB;
  const files = generateFiles(path.join(tmp, 'www/files'), specs);
  const [directPort, upPort, ngxPort, cfPort, koaPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const { upstream, log } = await startFixtureUpstream({ tmp, upPort, directPort });
  const ngx = await startNginx('proxy_cache', path.join(tmp, 'nginx-cache'),
    ({ dir, user }) => proxyCacheConfig({ dir, port: ngxPort, upPort, user }), `http://127.0.0.1:${ngxPort}/files/k1.bin`);
  const cf = await startCacheForge({ root: ROOT, dir: path.join(tmp, 'cacheforge'), port: cfPort, upstreamPort: upPort, cpuProfDir: o.cpuProf });
  const koa = await startBareKoa({ dir: tmp, port: koaPort, files: [files['k1.bin'].path] });
  const peers = {
    nginx: { label: 'nginx proxy_cache', base: `http://127.0.0.1:${ngxPort}/files/`, statusHeader: 'x-cache', pid: ngx.child.pid },
    cacheforge: { label: 'Cache Forge', base: `http://127.0.0.1:${cfPort}/files/`, statusHeader: 'x-cache-status', pid: cf.pid },
    koa: { label: 'bare koa route', base: `http://127.0.0.1:${koaPort}/files/`, pid: koa.child.pid },
  };
  const upstreamPeer = { label: 'upstream (direct)', base: `http://127.0.0.1:${upPort}/files/` };
  const ctx = { scratch, log, upstreamPath: '/files/' };
  const results = { rounds: o.rounds, loadBefore: loadavg() };
  for (const id of ['nginx', 'cacheforge']) await prime(peers[id], files['k1.bin'], 'k1.bin', scratch);
  await prime(peers.cacheforge, files['big-warm.bin'], 'big-warm.bin', scratch);

  const out = [];
  if (o.cold) {
    const runs = { direct: [], nginx: [], cacheforge: [] };
    for (let i = 0; i < o.rounds; i++) {
      step(`cold miss round ${i + 1}/${o.rounds}`);
      runs.direct.push(await coldMiss(upstreamPeer, files['big-warm.bin'], 'big-warm.bin', ctx));
      for (const [id, p] of [['nginx', 'ngx'], ['cacheforge', 'cf']]) {
        // CPU of the proxy itself from the request until the next request has been answered as a hit.
        const before = cpuSeconds(peers[id].pid);
        const r = await coldMiss(peers[id], files[`cold-${p}-${i}.bin`], `cold-${p}-${i}.bin`, ctx);
        runs[id].push({ ...r, cpu: cpuSeconds(peers[id].pid) - before });
      }
    }
    results.cold = runs;
    const med = (id, k) => median(runs[id].map((r) => r[k]));
    out.push(`Cold miss, 100 MiB, upstream unthrottled, ${o.rounds} rounds (medians; every body sha256-checked)`);
    out.push(table(['peer', 'TTFB s', 'total s', 'totals', 'proxy CPU s', 'x direct', 'x nginx', 'sha256', 'upstream GETs', 'next'],
      Object.entries(runs).map(([id, rs]) => [id, f(med(id, 'ttfb'), 3), f(med(id, 'total'), 3), rs.map((r) => f(r.total)).join(' '),
        id === 'direct' ? '' : f(med(id, 'cpu')),
        f(med(id, 'total') / med('direct', 'total')), f(med(id, 'total') / med('nginx', 'total')),
        rs.every((r) => r.hashOk) ? 'ok' : 'BAD', rs.map((r) => r.upstreamGets ?? '').join(' '), rs.map((r) => r.next?.cacheStatus ?? '').join(' ')])));
    out.push(`  Cache Forge / nginx proxy_cache: ${f(med('cacheforge', 'total') / med('nginx', 'total'))}x (goal <= 1.20x)\n`);
  }
  if (o.small) {
    const runs = { koa: [], cacheforge: [], nginx: [] };
    for (let i = 0; i < o.rounds; i++) {
      step(`1 KiB hits round ${i + 1}/${o.rounds}`);
      for (const id of Object.keys(runs)) {
        const before = cpuSeconds(peers[id].pid);
        const r = (await smallHits({ [id]: peers[id] }, 'k1.bin', { connections: 32, seconds: o.seconds, log }))[id];
        runs[id].push({ ...r, cpuPerRequest: (cpuSeconds(peers[id].pid) - before) / r.requests });
      }
    }
    results.hits1k = runs;
    const med = (id) => median(runs[id].map((r) => r.rps));
    out.push(`1 KiB warm hits (wrk -c32 -t2 -d${o.seconds}s), ${o.rounds} rounds (medians)`);
    out.push(table(['peer', 'req/s', 'runs', 'x koa', 'server CPU µs/req', 'errors', 'upstream GETs'],
      Object.entries(runs).map(([id, rs]) => [id, Math.round(med(id)), rs.map((r) => Math.round(r.rps)).join(' '), f(med(id) / med('koa')),
        f(median(rs.map((r) => r.cpuPerRequest * 1e6)), 1),
        rs.reduce((a, r) => a + r.non2xx + r.socketErrors, 0), rs.reduce((a, r) => a + r.upstreamGets, 0)])));
    out.push(`  Cache Forge / bare koa: ${f(med('cacheforge') / med('koa'))}x (goal >= 0.90x)   Cache Forge / nginx: ${f(med('cacheforge') / med('nginx'))}x\n`);
  }
  await cf.stop();
  await koa.stop();
  await ngx.stop();
  await upstream.stop();
  results.meta = { date: new Date().toISOString(), node: process.version, nginx: nginxVersion(), cpus: cpus().length, loadavg: loadavg() };
  process.stdout.write(`\nfocus bench ${results.meta.date}, load before ${results.loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${results.meta.loadavg.map((x) => x.toFixed(2)).join(' ')}\n${out.join('\n')}\n`);
  writeJson(RESULTS, results);
}

const { values } = parseArgs({ options: {
  'no-build': { type: 'boolean' }, 'cpu-prof': { type: 'string' }, keep: { type: 'boolean' },
  rounds: { type: 'string', default: '3' }, only: { type: 'string' }, seconds: { type: 'string', default: '5' },
} });
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => shutdownAll(5000).finally(() => process.exit(130)));
try {
  await main({
    build: !values['no-build'], keep: values.keep, cpuProf: values['cpu-prof'] && path.resolve(values['cpu-prof']),
    rounds: Math.max(1, Math.min(10, Number(values.rounds) || 3)), seconds: Math.max(1, Math.min(30, Number(values.seconds) || 5)),
    cold: values.only !== 'small', small: values.only !== 'cold',
  });
} catch (err) {
  step(`FAILED: ${err.stack ?? err}`);
  process.exitCode = 1;
}
await shutdownAll(5000);
