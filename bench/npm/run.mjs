#!/usr/bin/env node
// npm benchmark: `pnpm bench:npm` (see bench/README.md). A real project's dependency tree, saved
// once from the registry into a local snapshot upstream; Cache Forge and Verdaccio both proxy that
// upstream in the same run. Measured warm: `npm ci` time with an empty npm cache, and hit req/s
// of a package document and of a tarball (wrk).
//
// Options: --no-build   skip `npx tsc -b`
//          --rounds N   timed `npm ci` rounds per peer (default 5)
//          --keep       keep the temp dir
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, ownTempDir, runCommand, shutdownAll, killAllSync, cleanEnv, withoutPackageManagerEnv } from '../lib/proc.mjs';
import { httpGet, wrk, median } from '../lib/measure.mjs';
import { buildWorkspace, embeddedConfig, startCacheForge } from '../lib/cacheforge.mjs';
import { ensureSnapshot, PROJECT, ORIGIN } from './snapshot.mjs';
import { startSnapshotUpstream } from './upstream.mjs';
import { ensureVerdaccio, startVerdaccio, VERDACCIO_VERSION } from './verdaccio.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/npm-latest.json');
const HITS = { connections: 32, threads: 2, seconds: 10 };
const step = (text) => process.stderr.write(`[bench:npm ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

/** No npm settings from whoever started us (pnpm passes npm_config_* to scripts). */
const env = withoutPackageManagerEnv(cleanEnv);

/** One `npm ci` of the project through `registry`, empty npm cache; milliseconds. */
async function npmCi(project, registry, lockTemplate, scratch) {
  rmSync(path.join(project, 'node_modules'), { recursive: true, force: true });
  rmSync(path.join(scratch, 'npm-cache'), { recursive: true, force: true });
  writeFileSync(path.join(project, 'package-lock.json'), lockTemplate.split(ORIGIN).join(registry));
  const result = await runCommand('npm', ['ci', '--registry', registry, '--cache', path.join(scratch, 'npm-cache'), '--userconfig', path.join(scratch, 'empty.npmrc'),
    '--ignore-scripts', '--no-audit', '--no-fund', '--update-notifier=false', '--prefer-online', '--loglevel', 'error'], { cwd: project, env, timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`npm ci via ${registry} failed:\n${result.stderr.slice(-3000)}`);
  return result.ms;
}

async function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

async function main(options) {
  const started = Date.now();
  for (const tool of ['wrk', 'npm']) {
    if ((await runCommand('which', [tool])).code !== 0) throw new Error(`missing ${tool}: apt-get install -y wrk`);
  }
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const snapshot = await ensureSnapshot(ROOT, step);
  step(`snapshot: ${snapshot.packages} packages, ${snapshot.tarballs} tarballs in ${path.relative(ROOT, snapshot.dir)}`);
  const verdaccio = await ensureVerdaccio(ROOT, env, step);

  const tmp = mkdtempSync(path.join(tmpdir(), 'cacheforge-bench-npm-'));
  if (!options.keep) ownTempDir(tmp);
  const [upPort, cfPort, vdPort] = [await freePort(), await freePort(), await freePort()];
  const upstream = await startSnapshotUpstream(snapshot.dir, upPort);
  const cfDir = path.join(tmp, 'cacheforge');
  const cf = await startCacheForge({ root: ROOT, dir: cfDir, port: cfPort, env, config: embeddedConfig({
    dir: cfDir, port: cfPort, plugins: ['@cacheforge/plugin-npm'], remotes: { npm: { type: 'npm', upstream: upstream.base } },
  }) });
  rmSync(path.join(verdaccio.dir, 'storage'), { recursive: true, force: true });
  const vd = await startVerdaccio({ bin: verdaccio.bin, dir: verdaccio.dir, port: vdPort, upstreamBase: upstream.base, env });
  step(`servers up: upstream :${upPort}, Cache Forge :${cfPort} (pid ${cf.pid}), Verdaccio ${VERDACCIO_VERSION} :${vdPort} (pid ${vd.pid})`);

  const peers = {
    cacheforge: { label: 'Cache Forge', registry: `http://127.0.0.1:${cfPort}/npm/`, pid: cf.pid },
    verdaccio: { label: `Verdaccio ${VERDACCIO_VERSION}`, registry: `http://127.0.0.1:${vdPort}/`, pid: vd.pid },
  };
  const project = path.join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify(PROJECT, null, 2));
  writeFileSync(path.join(tmp, 'empty.npmrc'), '');
  const lockTemplate = readFileSync(path.join(snapshot.dir, 'package-lock.json'), 'utf8');
  const results = { meta: {}, project: PROJECT.dependencies, packages: snapshot.packages, tarballs: snapshot.tarballs, peers: {} };

  for (const [id, peer] of Object.entries(peers)) {
    const before = { ...upstream.counts };
    const cold = await npmCi(project, peer.registry, lockTemplate, tmp);
    const installed = JSON.parse(readFileSync(path.join(project, 'node_modules/.package-lock.json'), 'utf8'));
    peer.installed = Object.keys(installed.packages).length;
    // Warm the documents too, as an install without a lockfile would.
    for (const name of ['express', 'debug', 'eslint', '@babel/core']) await httpGet(`${peer.registry}${name.replace('/', '%2f')}`);
    step(`${peer.label}: cold npm ci ${(cold / 1000).toFixed(1)} s (${peer.installed} packages); upstream: ${upstream.counts.tarballs - before.tarballs} tarballs, ${upstream.counts.documents - before.documents} documents`);
    results.peers[id] = { label: peer.label, coldCiMs: Math.round(cold), installed: peer.installed, warmCiMs: [] };
  }
  const upstreamAfterCold = { ...upstream.counts };
  step(`warm npm ci: ${options.rounds} rounds per peer, interleaved`);
  for (let round = 0; round < options.rounds; round++) {
    // Alternating who goes first, so a drift in the machine's load favours neither.
    const order = Object.entries(peers);
    if (round % 2 === 1) order.reverse();
    for (const [id, peer] of order) {
      const cpu0 = await cpuSeconds(peer.pid);
      results.peers[id].warmCiMs.push(Math.round(await npmCi(project, peer.registry, lockTemplate, tmp)));
      results.peers[id].warmCiServerCpuSeconds = +((results.peers[id].warmCiServerCpuSeconds ?? 0) + await cpuSeconds(peer.pid) - cpu0).toFixed(2);
    }
  }
  for (const r of Object.values(results.peers)) r.warmCiMedianMs = median(r.warmCiMs);

  const tarballRel = `express/-/express-4.21.2.tgz`;
  for (const [id, peer] of Object.entries(peers)) {
    const doc = await httpGet(`${peer.registry}express`);
    const tgz = await httpGet(`${peer.registry}${tarballRel}`);
    if (doc.status !== 200 || tgz.status !== 200) throw new Error(`${peer.label}: warm GETs answered ${doc.status}/${tgz.status}`);
    step(`${peer.label}: wrk packument (express, ${doc.bytes} B) and tarball (${tgz.bytes} B), ${HITS.connections} connections, ${HITS.seconds} s each`);
    const cpu0 = await cpuSeconds(peer.pid);
    const documentHits = await wrk(`${peer.registry}express`, { ...HITS, headers: { accept: 'application/json' } });
    const cpu1 = await cpuSeconds(peer.pid);
    const tarballHits = await wrk(`${peer.registry}${tarballRel}`, HITS);
    results.peers[id].documentHits = { ...documentHits, bytes: doc.bytes, cpuSeconds: +(cpu1 - cpu0).toFixed(1) };
    results.peers[id].tarballHits = { ...tarballHits, bytes: tgz.bytes };
  }
  const upstreamDuringWarm = Object.fromEntries(Object.entries(upstream.counts).map(([k, v]) => [k, v - upstreamAfterCold[k]]));

  await cf.stop();
  await vd.stop();
  await upstream.stop();

  const c = results.peers.cacheforge;
  const v = results.peers.verdaccio;
  results.ratios = {
    warmCi: +(v.warmCiMedianMs / c.warmCiMedianMs).toFixed(2),
    documentHits: +(c.documentHits.rps / v.documentHits.rps).toFixed(1),
    tarballHits: +(c.tarballHits.rps / v.tarballHits.rps).toFixed(1),
  };
  results.goals = {
    'npm ci at least as fast as Verdaccio': results.ratios.warmCi >= 1,
    'document hits >= 5x Verdaccio': results.ratios.documentHits >= 5,
    'tarball hits >= 5x Verdaccio': results.ratios.tarballHits >= 5,
  };
  results.upstreamDuringWarm = upstreamDuringWarm;
  results.meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), seconds: Math.round((Date.now() - started) / 1000) };
  const line = (label, fn) => `${label.padEnd(34)}${fn(c).padStart(16)}${fn(v).padStart(16)}`;
  process.stdout.write([
    '',
    `npm benchmark: ${snapshot.packages} packages (${c.installed} installed), warm caches, ${options.rounds} rounds`,
    `${''.padEnd(34)}${'Cache Forge'.padStart(16)}${`Verdaccio ${VERDACCIO_VERSION}`.padStart(16)}`,
    line('cold npm ci (s)', (p) => (p.coldCiMs / 1000).toFixed(2)),
    line('warm npm ci, median (s)', (p) => (p.warmCiMedianMs / 1000).toFixed(2)),
    line('server CPU over warm rounds (s)', (p) => p.warmCiServerCpuSeconds.toFixed(1)),
    line('packument hits (req/s)', (p) => p.documentHits.rps.toFixed(0)),
    line('packument p99 (ms)', (p) => String(p.documentHits.p99)),
    line('tarball hits (req/s)', (p) => p.tarballHits.rps.toFixed(0)),
    line('tarball p99 (ms)', (p) => String(p.tarballHits.p99)),
    '',
    ...Object.values(results.peers).map((p) => `warm npm ci rounds, ${p.label}: ${p.warmCiMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`),
    `ratios: npm ci ${results.ratios.warmCi}x (Verdaccio time / Cache Forge time), packument hits ${results.ratios.documentHits}x, tarball hits ${results.ratios.tarballHits}x`,
    ...Object.entries(results.goals).map(([goal, met]) => `  ${met ? 'MET ' : 'MISS'} ${goal}`),
    `upstream requests during the warm phase: ${JSON.stringify(upstreamDuringWarm)}`,
    '',
  ].join('\n'));
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s`);
}

let values;
try {
  ({ values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, rounds: { type: 'string', default: '5' }, keep: { type: 'boolean' } } }));
} catch (err) {
  process.stderr.write(`${err.message}\nusage: pnpm bench:npm [--no-build] [--rounds N] [--keep]\n`);
  process.exit(2);
}
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { step(`${signal}: stopping everything`); shutdownAll(5000).finally(() => process.exit(130)); });
try {
  await main({ build: !values['no-build'], rounds: Math.max(1, Number(values.rounds) || 5), keep: values.keep });
} catch (err) {
  step(`FAILED: ${err.stack ?? err}`);
  process.exitCode = 1;
}
await shutdownAll(5000);
