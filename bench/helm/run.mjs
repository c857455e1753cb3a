#!/usr/bin/env node
// Helm big-index benchmark: `pnpm bench:helm` (see bench/README.md). A 30 MB index.yaml of 20,000
// entries appears upstream (nginx, static) while small chart hits are being served; Cache Forge's
// helm remote revalidates, stores, reads and rewrites it, and nginx proxy_cache (the peer) relays
// it, in one run. Printed: the index's read time (from Cache Forge's log), the time to first serve
// it plain and gzip, a hit on it, the worst and p99 small-hit latency with no index work and
// while the index is handled (measured by a probe in its own process), RSS, and the ratios.
//
// Also printed: the worst event-loop delay in Cache Forge's process in each window (sampled by
// loop-delay.mjs, preloaded with --import), which is the stall a hit can meet whatever the probe's
// timing luck.
//
// Options: --no-build   skip `npx tsc -b`;  --keep   keep the temp dir;  --cpu-prof DIR   write
// Cache Forge's CPU profile into DIR when it stops (read it with bench/helm/stalls.mjs)
import { mkdirSync, writeFileSync, renameSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, runCommand } from '../lib/proc.mjs';
import { startNginx, head } from '../lib/nginx.mjs';
import { benchTempDir, cacheForgeConfig, curlHeaders, runBench, runMeta, stepper } from '../lib/bench-run.mjs';
import { buildWorkspace, startCacheForge } from '../lib/cacheforge.mjs';
import { httpGet, RssSampler } from '../lib/measure.mjs';
import { table, writeJson } from '../lib/report.mjs';
import { bigIndex, sha256, smallChart, smallIndex } from './fixture.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/helm-latest.json');
const INDEX = { charts: 400, versions: 50, base: 'https://github.example/owner/charts/' };
// The window while the big index is handled is longer: it must cover the index's first reads on a busy machine.
const PROBE = { seconds: 12, duringSeconds: 20, clients: 4 };

const step = stepper('helm');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function upstreamConfig({ dir, www, port, user }) {
  return `${head(dir, user)}
  server { listen 127.0.0.1:${port}; root ${www}; etag on; }
}
`;
}

/** nginx proxy_cache as a chart repository mirror: everything cached, the index for as long as Cache Forge's TTL. */
function proxyCacheConfig({ dir, port, upPort, user }) {
  return `${head(dir, user)}
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=helm:10m max_size=10g inactive=30d use_temp_path=off;
  upstream charts { server 127.0.0.1:${upPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_cache helm;
    proxy_cache_lock on;
    proxy_cache_revalidate on;
    proxy_cache_use_stale error timeout updating;
    add_header X-Cache $upstream_cache_status;
    location = /stable/index.yaml { proxy_pass http://charts; proxy_cache_valid 200 1s; }
    location /stable/ { proxy_pass http://charts; proxy_cache_valid 200 30d; }
  }
}
`;
}

/** The latency probe, in its own process, for `seconds`. */
async function probe(url, seconds) {
  const { code, stdout, stderr } = await runCommand(process.execPath, [path.join(ROOT, 'bench/helm/probe.mjs'), url, String(seconds), String(PROBE.clients)], { timeoutMs: (seconds + 30) * 1000 });
  if (code !== 0) throw new Error(`probe failed: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/** One timed GET with curl (ms), its size, and its cache header. */
async function timedGet(url, headers = {}) {
  const stdout = await curlHeaders(url, headers, ['-w', '\n@@ %{http_code} %{size_download} %{time_total}']);
  const [, status, size, total] = /@@ (\d+) (\d+) ([\d.]+)/.exec(stdout);
  const cache = /^x-cache(?:-status)?:\s*(\S+)/mi.exec(stdout)?.[1];
  if (status !== '200') throw new Error(`GET ${url}: ${status}`);
  return { ms: Number(total) * 1000, size: Number(size), cache };
}

/**
 * While the probe asks `small` over and over: replace the upstream index by the big one, let the
 * TTL pass, and GET the index plain, gzip (Cache Forge only) and again. Returns the timings and
 * the probe's figures for that window.
 */
async function duringBigIndex({ small, index, www, big, gzip }) {
  const from = Date.now();
  const probing = probe(small, PROBE.duringSeconds);
  await sleep(1000);
  const changed = Date.now();
  writeFileSync(path.join(www, 'stable/index.yaml.new'), big);
  renameSync(path.join(www, 'stable/index.yaml.new'), path.join(www, 'stable/index.yaml'));
  await sleep(1200); // past the 1 s TTL of both peers
  const at = (t) => t - changed;
  const first = { ...await timedGet(index), atMs: at(Date.now()) };
  const compressed = gzip ? { ...await timedGet(index, { 'accept-encoding': 'gzip' }), atMs: at(Date.now()) } : undefined;
  const hit = { ...await timedGet(index), atMs: at(Date.now()) };
  return { first, compressed, hit, probe: await probing, window: [from, Date.now()], changed };
}

/**
 * The turns of 30 ms or more loop-delay.mjs saw between `from` and `to`, longest first: [ms, ms
 * after `changed` they ended, ms of it the main thread was on a CPU, ms it waited for one].
 */
function stallsDuring(file, [from, to], changed) {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ').map(Number))
    .filter(([, , t]) => t >= from && t <= to).map(([s, e, t, cpu, wait]) => [Math.round((e - s) / 1000), t - changed, cpu, wait]).sort((a, b) => b[0] - a[0]).slice(0, 10);
}

/** The worst event-loop delay loop-delay.mjs saw in Cache Forge between `from` and `to` (ms). */
function loopDelayMax(file, [from, to]) {
  let max = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [t, ms] = line.split(' ').map(Number);
    if (t >= from && t <= to + 100 && ms > max) max = ms;
  }
  return max;
}

async function main(options) {
  const started = Date.now();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const tmp = benchTempDir('helm', options.keep);
  const www = path.join(tmp, 'www');
  mkdirSync(path.join(www, 'stable'), { recursive: true });
  const chart = smallChart();
  const digest = sha256(chart);
  writeFileSync(path.join(www, 'stable/small-1.0.0.tgz'), chart);
  step(`generating the index (${INDEX.charts} charts x ${INDEX.versions} versions)`);
  const big = bigIndex(digest, { ...INDEX, generated: '2024-06-01T00:00:00Z' });
  const entries = INDEX.charts * INDEX.versions + 1;
  step(`index: ${(big.length / 1e6).toFixed(1)} MB, ${entries} entries`);

  const [upPort, ngxPort, cfPort] = [await freePort(), await freePort(), await freePort()];
  const writeSmall = (generated) => writeFileSync(path.join(www, 'stable/index.yaml'), smallIndex(digest, generated));
  writeSmall('2024-05-01T00:00:00Z');
  const upstream = await startNginx('helm upstream', path.join(tmp, 'upstream'), ({ dir, user }) => upstreamConfig({ dir, www, port: upPort, user }), `http://127.0.0.1:${upPort}/stable/index.yaml`);
  const ngx = await startNginx('helm proxy_cache', path.join(tmp, 'nginx-cache'), ({ dir, user }) => proxyCacheConfig({ dir, port: ngxPort, upPort, user }), `http://127.0.0.1:${ngxPort}/stable/index.yaml`);
  const cfDir = path.join(tmp, 'cacheforge');
  const loopFile = path.join(tmp, 'loop-delay.txt');
  writeFileSync(loopFile, '');
  const cpuProfDir = options.cpuProf ? path.resolve(options.cpuProf) : undefined;
  const stallFile = path.join(cpuProfDir ?? tmp, 'stalls.txt');
  mkdirSync(path.dirname(stallFile), { recursive: true });
  writeFileSync(stallFile, '');
  const env = { ...process.env, CF_BENCH_LOOP_DELAY: loopFile, CF_BENCH_STALLS: stallFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(path.join(ROOT, 'bench/helm/loop-delay.mjs')).href}`.trim() };
  const cf = await startCacheForge({
    root: ROOT, dir: cfDir, port: cfPort, cpuProfDir, env, config: cacheForgeConfig({
      dir: cfDir, port: cfPort, plugin: '@cacheforge/plugin-helm', level: 'info',
      remotes: { charts: { type: 'helm', upstream: `http://127.0.0.1:${upPort}/stable/`, allowedHosts: ['github.example'], ttl: { mutable: '1s' } } },
    }),
  });
  step(`servers up: upstream :${upPort}, nginx proxy_cache :${ngxPort}, Cache Forge :${cfPort} (pid ${cf.pid})`);
  const peers = {
    cacheforge: { label: 'Cache Forge', base: `http://127.0.0.1:${cfPort}/charts/`, gzip: true },
    nginx: { label: 'nginx proxy_cache', base: `http://127.0.0.1:${ngxPort}/stable/`, gzip: false },
  };
  const results = { settings: { ...INDEX, entries, indexBytes: Buffer.byteLength(big), probe: PROBE }, peers: {} };
  const rss = new RssSampler(cf.pid);
  for (const [id, peer] of Object.entries(peers)) {
    // Prime: the small index and the small chart stored; a second GET is a hit.
    writeSmall(`2024-05-0${id === 'nginx' ? 2 : 1}T00:00:00Z`);
    await sleep(1200);
    for (const url of [`${peer.base}index.yaml`, `${peer.base}small-1.0.0.tgz`, `${peer.base}small-1.0.0.tgz`]) await httpGet(url, 30_000);
    const hit = await timedGet(`${peer.base}small-1.0.0.tgz`);
    if (hit.cache !== 'HIT') throw new Error(`${peer.label}: the small chart is not a hit (${hit.cache})`);
    step(`${peer.label}: small hits with nothing else going on (${PROBE.seconds} s)`);
    rss.phase(`${id}-baseline`);
    const baselineFrom = Date.now();
    const baseline = { ...await probe(`${peer.base}small-1.0.0.tgz`, PROBE.seconds), window: [baselineFrom, Date.now()] };
    step(`${peer.label}: small hits while the big index arrives and is served`);
    rss.phase(`${id}-index`);
    const during = await duringBigIndex({ small: `${peer.base}small-1.0.0.tgz`, index: `${peer.base}index.yaml`, www, big, gzip: peer.gzip });
    results.peers[id] = { baseline, ...during };
  }
  rss.stop();
  const read = readFileSync(cf.logFile, 'utf8').split('\n').filter((l) => l.includes('"index.yaml read"')).map((l) => JSON.parse(l)).find((l) => l.entries === entries);
  results.cacheforge = { readMs: read?.ms, readHow: read?.how, rssPeakMiB: rss.peak, rssPeaks: rss.peaks, hwmMiB: hwm(cf.pid) };
  step('stopping the servers');
  await cf.stop();
  for (const phase of ['baseline', 'probe']) {
    const cfPhase = results.peers.cacheforge[phase];
    cfPhase.loopDelayMax = loopDelayMax(loopFile, phase === 'probe' ? results.peers.cacheforge.window : cfPhase.window);
  }
  results.peers.cacheforge.stalls = stallsDuring(stallFile, results.peers.cacheforge.window, results.peers.cacheforge.changed);
  if (cpuProfDir) step(`CPU profile in ${path.relative(process.cwd(), cpuProfDir)}/ (node bench/helm/stalls.mjs <file>.cpuprofile stalls.txt)`);
  await ngx.stop();
  await upstream.stop();
  results.meta = runMeta(started);
  report(results);
  writeJson(RESULTS, results);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s`);
}

function hwm(pid) {
  try { return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return undefined; }
}

function report(r) {
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const cf = r.peers.cacheforge;
  const ngx = r.peers.nginx;
  const rows = [
    ['small hit, worst latency, nothing else going on (ms)', f(ngx.baseline.max), f(cf.baseline.max), `${f(cf.baseline.max / ngx.baseline.max, 2)}x`],
    ['small hit, worst latency while the big index is handled (ms)', f(ngx.probe.max), f(cf.probe.max), `${f(cf.probe.max / ngx.probe.max, 2)}x`],
    ['worst event-loop delay, nothing else going on (ms)', '-', f(cf.baseline.loopDelayMax), '-'],
    ['worst event-loop delay while the big index is handled (ms)', '-', f(cf.probe.loopDelayMax), '-'],
    ['small hit, p99 while the big index is handled (ms)', f(ngx.probe.p99, 2), f(cf.probe.p99, 2), `${f(cf.probe.p99 / ngx.probe.p99, 2)}x`],
    ['small hits served in that window', String(ngx.probe.requests), String(cf.probe.requests), `${f(cf.probe.requests / ngx.probe.requests, 2)}x`],
    ['big index, first GET after it changed (ms)', f(ngx.first.ms, 0), f(cf.first.ms, 0), `${f(cf.first.ms / ngx.first.ms, 2)}x`],
    ['big index, hit (ms)', f(ngx.hit.ms, 0), f(cf.hit.ms, 0), `${f(cf.hit.ms / ngx.hit.ms, 2)}x`],
    ['big index, first gzip GET (ms; bytes)', '-', `${f(cf.compressed.ms, 0)}; ${cf.compressed.size}`, '-'],
  ];
  process.stdout.write(`\nHelm: a ${(r.settings.indexBytes / 1e6).toFixed(1)} MB index of ${r.settings.entries} entries, Cache Forge vs nginx proxy_cache (${r.meta.cpus} CPUs, load ${r.meta.loadavg.map((x) => x.toFixed(1)).join(' ')}, node ${r.meta.node}, ${r.meta.nginx}); ratio = Cache Forge / nginx\n\n`);
  process.stdout.write(`${table(['measure', 'nginx', 'Cache Forge', 'ratio'], rows)}\n\n`);
  const stalls = cf.stalls.slice(0, 6).map(([ms, at, cpu, wait]) => `${ms} ms at +${at} ms (${cpu} on a CPU, ${wait} waiting for one)`).join(', ') || 'none';
  const busiest = Math.max(0, ...cf.stalls.map(([, , cpu]) => cpu));
  process.stdout.write(`Cache Forge turns of 30 ms or more while the index was handled (time after it changed upstream; the index was first served at +${cf.first.atMs} ms, gzip at +${cf.compressed.atMs} ms): ${stalls}\n`);
  process.stdout.write(`Longest time Cache Forge's main thread was on a CPU within one such turn: ${f(busiest)} ms (the rest of a turn is the machine's other work)\n`);
  process.stdout.write(`Cache Forge read the index in ${f(r.cacheforge.readMs, 0)} ms (${r.cacheforge.readHow}); RSS peak ${f(r.cacheforge.rssPeakMiB, 0)} MiB (VmHWM ${f(r.cacheforge.hwmMiB, 0)} MiB)\n\n`);
}

await runBench('helm', (values) => main({ build: values.build, keep: values.keep, cpuProf: values['cpu-prof'] }), { options: { 'cpu-prof': { type: 'string' } }, usage: ' [--cpu-prof DIR]' });
