#!/usr/bin/env node
// apt benchmark: `pnpm bench:apt` (see bench/README.md). Cache Forge's apt remote against
// apt-cacher-ng (Debian's package), both as apt's HTTP proxy in front of the machine's own Debian
// mirror (found at run time in /etc/apt, never written down): `apt-get update` and `apt-get
// download` of BENCH_DEBS real packages, cold then warm, through each, with the ratios printed.
//
// Options: --no-build   skip `npx tsc -b`;  --keep   keep the temp dir
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, ownTempDir, killAllSync, shutdownAll, runCommand, startProcess, stopProcess, waitFor } from '../lib/proc.mjs';
import { buildWorkspace, startCacheForge } from '../lib/cacheforge.mjs';
import { httpGet } from '../lib/measure.mjs';
import { table, writeJson } from '../lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/apt-latest.json');
const BENCH_DEBS = 50;
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const step = (text) => process.stderr.write(`[bench:apt ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

/** The machine's first non-security http deb source, read with the plugin's own parser (built). */
async function machineMirror() {
  const { readAptSources, pickMirror } = await import(path.join(ROOT, 'packages/plugin-apt/dist/apt-sources.js'));
  const source = (await readAptSources()).find((s) => pickMirror([s]));
  if (!source) throw new Error('no http deb source in /etc/apt to benchmark against');
  return { url: pickMirror([source]).href, suite: source.suites[0] };
}

/** A private apt configuration using `proxy` (as in the plugin's tests, test/support/apt.ts). */
function aptClient(dir, sources, proxy) {
  for (const sub of ['etc/apt.conf.d', 'etc/preferences.d', 'state/lists/partial', 'cache/archives/partial', 'dl']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'state/status'), '');
  writeFileSync(path.join(dir, 'sources.list'), sources);
  writeFileSync(path.join(dir, 'apt.conf'), [
    `Dir::Etc::SourceList "${dir}/sources.list";`, 'Dir::Etc::SourceParts "/dev/null";', 'Dir::Etc::Main "/dev/null";',
    `Dir::Etc::Parts "${dir}/etc/apt.conf.d";`, 'Dir::Etc::Preferences "/dev/null";', `Dir::Etc::PreferencesParts "${dir}/etc/preferences.d";`,
    `Dir::State "${dir}/state";`, `Dir::State::status "${dir}/state/status";`, `Dir::Cache "${dir}/cache";`,
    'Debug::NoLocking "true";', 'APT::Sandbox::User "root";', 'Acquire::Languages "none";', `Acquire::http::Proxy "${proxy}";`,
    'APT::Architectures { "amd64"; };',
  ].join('\n') + '\n');
  const env = { ...process.env, APT_CONFIG: path.join(dir, 'apt.conf') };
  const aptGet = async (...args) => {
    const { code, stderr, ms } = await runCommand('apt-get', ['-q', ...args], { cwd: path.join(dir, 'dl'), env, timeoutMs: 600_000 });
    if (code !== 0) throw new Error(`apt-get ${args.slice(0, 3).join(' ')} through ${proxy} failed (${code}): ${stderr.slice(-1500)}`);
    return ms / 1000;
  };
  const reset = (sub) => { rmSync(path.join(dir, sub), { recursive: true, force: true }); mkdirSync(path.join(dir, sub, sub === 'dl' ? '' : 'partial'), { recursive: true }); };
  return { dir, aptGet, reset };
}

/** BENCH_DEBS packages of 20-400 kB spread over the suite's main Packages, the same for every run. */
function pickPackages(listsDir) {
  const file = readdirSync(listsDir).find((f) => /_main_binary-amd64_Packages$/.test(f));
  if (!file) throw new Error(`no main amd64 Packages in ${listsDir}`);
  const names = [];
  for (const stanza of readFileSync(path.join(listsDir, file), 'utf8').split('\n\n')) {
    const name = /^Package: (\S+)/m.exec(stanza)?.[1];
    const size = Number(/^Size: (\d+)/m.exec(stanza)?.[1]);
    if (name && size >= 20_000 && size <= 400_000) names.push(name);
  }
  names.sort();
  const every = Math.floor(names.length / BENCH_DEBS);
  return Array.from({ length: BENCH_DEBS }, (_, i) => names[i * every]);
}

async function startAptCacherNg(dir, port) {
  mkdirSync(path.join(dir, 'cache'), { recursive: true });
  mkdirSync(path.join(dir, 'log'), { recursive: true });
  mkdirSync(path.join(dir, 'conf'), { recursive: true });
  writeFileSync(path.join(dir, 'conf/acng.conf'), [
    `CacheDir: ${dir}/cache`, `LogDir: ${dir}/log`, 'SupportDir: /usr/lib/apt-cacher-ng', `Port: ${port}`, 'BindAddress: 127.0.0.1',
    'ForeGround: 1', `PidFile: ${dir}/acng.pid`, `SocketPath: ${dir}/acng.socket`, 'ExThreshold: 4',
  ].join('\n') + '\n');
  const child = startProcess('/usr/sbin/apt-cacher-ng', ['-c', path.join(dir, 'conf')], { logFile: path.join(dir, 'acng.out') });
  await waitFor('apt-cacher-ng', async () => (await httpGet(`http://127.0.0.1:${port}/acng-report.html`).catch(() => ({ status: 0 }))).status > 0, 15_000);
  return { url: `http://127.0.0.1:${port}/`, stop: () => stopProcess(child) };
}

async function measure(peer, debs) {
  const r = {};
  r.updateCold = await peer.client.aptGet('update');
  const names = debs ?? pickPackages(path.join(peer.client.dir, 'state/lists'));
  r.downloadCold = await peer.client.aptGet('download', ...names);
  if (readdirSync(path.join(peer.client.dir, 'dl')).filter((f) => f.endsWith('.deb')).length !== names.length) throw new Error(`${peer.label}: not every .deb was downloaded`);
  peer.client.reset('state/lists');
  peer.client.reset('dl');
  r.updateWarm = await peer.client.aptGet('update');
  r.downloadWarm = await peer.client.aptGet('download', ...names);
  return { r, names };
}

async function main(options) {
  const started = Date.now();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'cacheforge-bench-apt-'));
  if (!options.keep) ownTempDir(tmp);
  chmodSync(tmp, 0o755);
  const mirror = await machineMirror();
  step(`mirror: the first deb source of /etc/apt, suite ${mirror.suite} (temp dir ${tmp})`);
  const [acngPort, cfPort] = [await freePort(), await freePort()];
  // apt-cacher-ng resolves its bind address through its own resolver; where that fails (a sandbox
  // without DNS) it never listens: the run then measures Cache Forge alone and says why.
  const acng = await startAptCacherNg(path.join(tmp, 'acng'), acngPort).catch((err) => {
    step(`apt-cacher-ng did not start (${err.message}; see ${path.join(tmp, 'acng', 'acng.out')}): measuring Cache Forge alone`);
    return undefined;
  });
  const cfDir = path.join(tmp, 'cacheforge');
  const cf = await startCacheForge({
    root: ROOT, dir: cfDir, port: cfPort, config: {
      server: { host: '127.0.0.1', port: cfPort, shutdownTimeout: '5s' },
      log: { level: 'warn', requests: false },
      storage: { filesystem: { path: path.join(cfDir, 'blobs') } },
      metadata: { sqlite: { filename: path.join(cfDir, 'cacheforge.db') } },
      plugins: ['@cacheforge/plugin-apt'],
      remotes: { debian: { type: 'apt' } },
    },
  });
  const sources = `deb [signed-by=${KEYRING}] ${mirror.url} ${mirror.suite} main\n`;
  const peers = {
    acng: acng && { label: 'apt-cacher-ng', client: aptClient(path.join(tmp, 'client-acng'), sources, acng.url) },
    cacheforge: { label: 'Cache Forge', client: aptClient(path.join(tmp, 'client-cf'), sources, `${cf.url}/`) },
  };
  step(`apt-cacher-ng: update and ${BENCH_DEBS} downloads, cold then warm`);
  const first = peers.acng ? await measure(peers.acng) : undefined;
  step('Cache Forge: the same packages, cold then warm');
  const second = await measure(peers.cacheforge, first?.names);
  await cf.stop();
  await acng?.stop();
  const results = { debs: second.names.length, acng: first?.r ?? null, cacheforge: second.r, meta: { date: new Date().toISOString(), node: process.version, cpus: cpus().length, seconds: Math.round((Date.now() - started) / 1000) } };
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const rows = [['update, cold', 'updateCold'], [`download ${results.debs} .debs, cold`, 'downloadCold'], ['update, warm', 'updateWarm'], [`download ${results.debs} .debs, warm`, 'downloadWarm']]
    .map(([label, id]) => [`${label} (s)`, f(results.acng?.[id]), f(results.cacheforge[id]), results.acng ? `${f(results.acng[id] / results.cacheforge[id])}x` : '-']);
  process.stdout.write(`\napt: Cache Forge vs apt-cacher-ng, both as apt's proxy to the machine's Debian mirror (${results.meta.cpus} CPUs, node ${results.meta.node}); ratio > 1 means Cache Forge is faster\n\n`);
  process.stdout.write(`${table(['scenario', 'apt-cacher-ng', 'Cache Forge', 'ratio'], rows)}\n\n`);
  writeJson(RESULTS, results);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s`);
}

let values;
try {
  ({ values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, keep: { type: 'boolean' } } }));
} catch (err) {
  process.stderr.write(`${err.message}\nusage: pnpm bench:apt [--no-build] [--keep]\n`);
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
