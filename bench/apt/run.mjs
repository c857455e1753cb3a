#!/usr/bin/env node
// apt benchmark: `pnpm bench:apt` (see bench/README.md). Cache Forge's apt remote against
// apt-cacher-ng (Debian's package), both as apt's HTTP proxy in front of the machine's own Debian
// mirror (found at run time in /etc/apt, never written down): `apt-get update` and `apt-get
// download` of BENCH_DEBS real packages, cold then warm, through each, back to back, with the
// ratios printed. Each round starts both caches empty; the order alternates between rounds, so
// neither always meets the mirror second (after the other warmed it). Then the pool map the apt
// remote built is measured on the suite's real Packages.xz (bench/apt/index-map.mjs).
//
// Options: --no-build  skip `npx tsc -b`;  --keep  keep the temp dir;  --rounds N  (default 4)
import { mkdtempSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, ownTempDir, killAllSync, shutdownAll, runCommand } from '../lib/proc.mjs';
import { buildWorkspace, startCacheForge, embeddedConfig } from '../lib/cacheforge.mjs';
import { median } from '../lib/measure.mjs';
import { table, writeJson } from '../lib/report.mjs';
import { aptClient, pickPackages, packagesXzByHash } from './client.mjs';
import { startAptCacherNg } from './acng.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/apt-latest.json');
const BENCH_DEBS = 50;
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const PHASES = ['updateCold', 'downloadCold', 'updateWarm', 'downloadWarm'];
const step = (text) => process.stderr.write(`[bench:apt ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

/** The machine's first non-security http deb source, read with the plugin's own parser (built). */
async function machineMirror() {
  const { readAptSources, pickMirror } = await import(path.join(ROOT, 'packages/plugin-apt/dist/apt-sources.js'));
  const source = (await readAptSources()).find((s) => pickMirror([s]));
  if (!source) throw new Error('no http deb source in /etc/apt to benchmark against');
  return { url: pickMirror([source]).href, suite: source.suites[0] };
}

async function startCacheForgePeer(dir) {
  const port = await freePort();
  const cf = await startCacheForge({
    root: ROOT, dir, port,
    config: embeddedConfig({ dir, port, plugins: ['@cacheforge/plugin-apt'], remotes: { debian: { type: 'apt' } } }),
  });
  const metric = async (name) => {
    const text = await (await fetch(`${cf.url}/-/metrics`)).text();
    return [...text.matchAll(new RegExp(`^${name}\\{[^}]*remote="debian"[^}]*\\} (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  return { label: 'Cache Forge', url: `${cf.url}/`, pid: cf.pid, base: cf.url, upstreamBytes: () => metric('cacheforge_fetched_bytes_total'), stop: cf.stop };
}

function rssMiB(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** update + download, cold (empty cache), then warm (apt's lists and .debs forgotten, the cache kept). */
async function measure(peer, client, names) {
  const times = {};
  const upstream = {};
  let before = await peer.upstreamBytes();
  const phase = async (id, run) => {
    times[id] = await run();
    const now = await peer.upstreamBytes();
    upstream[id] = now - before;
    before = now;
  };
  await phase('updateCold', () => client.aptGet('update'));
  names ??= pickPackages(client.lists, BENCH_DEBS);
  await phase('downloadCold', () => client.aptGet('download', ...names));
  if (client.debs().length !== names.length) throw new Error(`${peer.label}: ${client.debs().length} of ${names.length} .debs downloaded`);
  client.reset('state/lists');
  client.reset('dl');
  await phase('updateWarm', () => client.aptGet('update'));
  await phase('downloadWarm', () => client.aptGet('download', ...names));
  if (client.debs().length !== names.length) throw new Error(`${peer.label}: ${client.debs().length} of ${names.length} .debs downloaded warm`);
  return { times, upstream, rssMiB: rssMiB(peer.pid), names };
}

async function main(options) {
  const started = Date.now();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'cacheforge-bench-apt-'));
  if (!options.keep) ownTempDir(tmp);
  chmodSync(tmp, 0o755);
  const mirror = await machineMirror();
  step(`mirror: the first deb source of /etc/apt, suite ${mirror.suite} (temp dir ${tmp})`);
  const sources = `deb [signed-by=${KEYRING}] ${mirror.url} ${mirror.suite} main\n`;
  const starters = { acng: startAptCacherNg, cacheforge: startCacheForgePeer };
  const runs = { acng: [], cacheforge: [] };
  let names;
  let packagesXz;
  for (let round = 0; round < options.rounds; round += 1) {
    const order = round % 2 === 0 ? ['acng', 'cacheforge'] : ['cacheforge', 'acng'];
    for (const id of order) {
      const dir = path.join(tmp, `round${round + 1}`, id);
      const peer = await starters[id](path.join(dir, 'server'));
      try {
        step(`round ${round + 1}: ${peer.label}, empty: update and ${BENCH_DEBS} downloads, cold then warm`);
        const client = aptClient(path.join(dir, 'client'), sources, peer.url);
        const result = await measure(peer, client, names);
        names = result.names;
        runs[id].push(result);
        if (id === 'cacheforge' && !packagesXz) packagesXz = await savePackagesXz(peer, client, mirror.suite, tmp);
      } finally {
        await peer.stop();
      }
    }
  }
  step(`the pool map on the suite's main amd64 Packages.xz, as Cache Forge stored it`);
  const indexMap = await measureIndexMap(packagesXz, tmp);
  const summary = (id) => Object.fromEntries(PHASES.map((p) => [p, median(runs[id].map((r) => r.times[p]))]));
  const results = {
    debs: names.length, rounds: options.rounds,
    acng: { median: summary('acng'), runs: runs.acng.map(({ names: _, ...r }) => r) },
    cacheforge: { median: summary('cacheforge'), runs: runs.cacheforge.map(({ names: _, ...r }) => r) },
    indexMap,
    meta: { date: new Date().toISOString(), node: process.version, cpus: cpus().length, seconds: Math.round((Date.now() - started) / 1000) },
  };
  report(results);
  writeJson(RESULTS, results);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s`);
}

/** The by-hash Packages.xz apt fetched through Cache Forge, read back from it (a hit: nothing goes upstream). */
async function savePackagesXz(peer, client, suite, tmp) {
  const res = await fetch(`${peer.base}/debian/${packagesXzByHash(client.lists, suite)}`);
  if (res.status !== 200 || res.headers.get('x-cache-status') !== 'HIT') throw new Error(`Packages.xz from Cache Forge: ${res.status} ${res.headers.get('x-cache-status')}`);
  const file = path.join(tmp, 'Packages.xz');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

async function measureIndexMap(file, tmp) {
  const json = path.join(tmp, 'index-map.json');
  const { code, stdout, stderr } = await runCommand(process.execPath, ['--expose-gc', path.join(ROOT, 'bench/apt/index-map.mjs'), file, '--json', json], { timeoutMs: 120_000 });
  if (code !== 0) throw new Error(`index-map failed (${code}): ${stderr}`);
  process.stdout.write(`\n${stdout}`);
  return JSON.parse(readFileSync(json, 'utf8'));
}

function report(r) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const mb = (x) => (Number.isFinite(x) ? (x / 1e6).toFixed(2) : '-');
  const labels = { updateCold: 'update, cold', downloadCold: `download ${r.debs} .debs, cold`, updateWarm: 'update, warm', downloadWarm: `download ${r.debs} .debs, warm` };
  const rows = PHASES.map((p) => [`${labels[p]} (s)`, f(r.acng.median[p]), f(r.cacheforge.median[p]), `${f(r.acng.median[p] / r.cacheforge.median[p])}x`]);
  const last = (id) => r[id].runs.at(-1);
  rows.push(['upstream MB, cold (last round)', mb(last('acng').upstream.updateCold + last('acng').upstream.downloadCold), mb(last('cacheforge').upstream.updateCold + last('cacheforge').upstream.downloadCold), '']);
  rows.push(['upstream MB, warm (last round)', mb(last('acng').upstream.updateWarm + last('acng').upstream.downloadWarm), mb(last('cacheforge').upstream.updateWarm + last('cacheforge').upstream.downloadWarm), '']);
  rows.push(['RSS after the run, MiB (last round)', f(last('acng').rssMiB), f(last('cacheforge').rssMiB), '']);
  process.stdout.write(`\napt: Cache Forge vs apt-cacher-ng, both as apt's proxy to the machine's Debian mirror; median of ${r.rounds} rounds, order alternating (${r.meta.cpus} CPUs, node ${r.meta.node}); ratio = apt-cacher-ng / Cache Forge, > 1 means Cache Forge is faster\n\n`);
  process.stdout.write(`${table(['scenario', 'apt-cacher-ng', 'Cache Forge', 'ratio'], rows)}\n`);
  for (const id of ['acng', 'cacheforge']) process.stdout.write(`  ${id === 'acng' ? 'apt-cacher-ng' : 'Cache Forge'} per round (s): ${r[id].runs.map((x) => PHASES.map((p) => f(x.times[p])).join('/')).join('  ')}\n`);
}

let values;
try {
  ({ values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, keep: { type: 'boolean' }, rounds: { type: 'string', default: '4' } } }));
  if (!/^[1-9]$/.test(values.rounds)) throw new Error('--rounds takes 1 to 9');
} catch (err) {
  process.stderr.write(`${err.message}\nusage: pnpm bench:apt [--no-build] [--keep] [--rounds N]\n`);
  process.exit(2);
}
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { step(`${signal}: stopping everything`); shutdownAll(5000).finally(() => process.exit(130)); });
try {
  await main({ build: !values['no-build'], keep: values.keep, rounds: Number(values.rounds) });
} catch (err) {
  step(`FAILED: ${err.stack ?? err}`);
  process.exitCode = 1;
}
await shutdownAll(5000);
