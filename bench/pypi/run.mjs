#!/usr/bin/env node
// PyPI benchmark: `pnpm bench:pypi` (see bench/README.md). Cache Forge's pypi remote against nginx
// proxy_cache set up as a PyPI mirror, on one upstream (an index host and a file host, both nginx
// serving real wheels), in one run: index page hits and wheel hits (wrk), and a warm
// `pip install` of BENCH_PROJECTS wheels through each, with the ratios printed.
//
// Options: --no-build   skip `npx tsc -b`;  --keep   keep the temp dir
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { freePort, runCommand } from '../lib/proc.mjs';
import { startNginx, NGINX } from '../lib/nginx.mjs';
import { benchTempDir, cacheForgeConfig, curlHeaders, runBench, runMeta, stepper } from '../lib/bench-run.mjs';
import { buildWorkspace, startCacheForge } from '../lib/cacheforge.mjs';
import { httpGet, wrk, median } from '../lib/measure.mjs';
import { table, writeJson } from '../lib/report.mjs';
import { benchProjects, buildPypiTree } from './fixture.mjs';
import { pypiUpstreamConfig, pypiProxyCacheConfig } from './nginx.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/pypi-latest.json');
const BENCH_PROJECTS = 20;
const SETTINGS = { connections: 32, seconds: 8, pipRounds: 3 };
const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const PYTHON = process.env.BENCH_PYTHON ?? 'python3';

const step = stepper('pypi');

/** pip without the machine's pip settings. */
const pipEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIP_') && !/^(https?|all|no)_proxy$/i.test(k))), PIP_CONFIG_FILE: '/dev/null' };

function preflight() {
  const missing = [];
  for (const [tool, args] of [[NGINX, ['-v']], ['wrk', ['--version']], [PYTHON, ['-m', 'pip', '--version']], ['/usr/bin/python3', ['-c', 'import setuptools, wheel']]]) {
    // wrk --version exits 1: only a missing program, or a failed Python check, counts.
    try { execFileSync(tool, args, { stdio: 'ignore' }); } catch (err) { if (err.code === 'ENOENT' || (tool.includes('python') && err.status)) missing.push(`${tool} ${args.join(' ')}`); }
  }
  if (missing.length) throw new Error(`missing: ${missing.join('; ')} (apt-get install -y nginx wrk python3-pip python3-setuptools python3-wheel python3-pip-whl python3-setuptools-whl python3-wheel-whl)`);
}

/** One `pip install --target` of every bench project through `index`; seconds, and pip's verdict. */
async function pipInstall(index, projects, scratch, label) {
  const target = path.join(scratch, `site-${label}`);
  rmSync(target, { recursive: true, force: true });
  const args = ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--index-url', index, '--target', target, ...projects];
  const { code, stdout, stderr, ms } = await runCommand(PYTHON, args, { timeoutMs: 300_000, env: pipEnv });
  if (code !== 0 || !/Successfully installed/.test(stdout)) throw new Error(`pip install through ${index} failed (${code}): ${stderr.slice(-2000)}`);
  rmSync(target, { recursive: true, force: true });
  return ms / 1000;
}

/** The first file URL a peer's JSON page for `project` links to (as rewritten by that peer). */
async function fileUrl(simple, project, filename) {
  const { stdout } = await runCommand('curl', ['-sS', '--noproxy', '*', '-H', `Accept: ${PIP_ACCEPT}`, `${simple}${project}/`]);
  const doc = JSON.parse(stdout);
  const file = doc.files.find((f) => f.filename === filename);
  if (!file) throw new Error(`${simple}${project}/ does not list ${filename}`);
  return file.url;
}

async function expectHit(url, statusHeader, headers = {}) {
  const stdout = await curlHeaders(url, headers);
  const m = new RegExp(`^${statusHeader}:\\s*(\\S+)`, 'mi').exec(stdout);
  if (!m || m[1] !== 'HIT') throw new Error(`${url} is not a cache hit (${statusHeader}: ${m?.[1] ?? 'absent'})`);
}

async function main(options) {
  const started = Date.now();
  preflight();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const tmp = benchTempDir('pypi', options.keep);
  const scratch = path.join(tmp, 'scratch');
  mkdirSync(scratch);
  const [indexPort, filesPort, ngxPort, cfPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const www = path.join(tmp, 'www');
  step(`building ${BENCH_PROJECTS} wheels with setuptools and the pages (temp dir ${tmp})`);
  const tree = await buildPypiTree({ root: ROOT, www, filesBase: `http://127.0.0.1:${filesPort}/`, projects: benchProjects(BENCH_PROJECTS) });
  const projects = tree.projects.filter((p) => p.startsWith('cf-bench-'));

  const upstream = await startNginx('pypi upstream', path.join(tmp, 'upstream'),
    ({ dir, user }) => pypiUpstreamConfig({ dir, www, indexPort, filesPort, user }), `http://127.0.0.1:${indexPort}/simple/`);
  const ngx = await startNginx('pypi proxy_cache', path.join(tmp, 'nginx-cache'),
    ({ dir, user }) => pypiProxyCacheConfig({ dir, port: ngxPort, indexPort, filesPort, user }), `http://127.0.0.1:${ngxPort}/simple/`);
  const cfDir = path.join(tmp, 'cacheforge');
  const cf = await startCacheForge({
    root: ROOT, dir: cfDir, port: cfPort, config: cacheForgeConfig({
      dir: cfDir, port: cfPort, plugin: '@cacheforge/plugin-pypi',
      remotes: { pypi: { type: 'pypi', upstream: `http://127.0.0.1:${indexPort}/`, files: `http://127.0.0.1:${filesPort}/` } },
    }),
  });
  step(`servers up: index :${indexPort}, files :${filesPort}, nginx proxy_cache :${ngxPort}, Cache Forge :${cfPort} (pid ${cf.pid})`);

  const peers = {
    nginx: { label: 'nginx proxy_cache', simple: `http://127.0.0.1:${ngxPort}/simple/`, statusHeader: 'x-cache' },
    cacheforge: { label: 'Cache Forge', simple: `http://127.0.0.1:${cfPort}/pypi/simple/`, statusHeader: 'x-cache-status' },
  };
  const results = { settings: { ...SETTINGS, projects: projects.length }, cold: {}, pip: {}, wrk: {} };

  step(`cold pip install of ${projects.length} wheels through each peer (primes the caches)`);
  for (const [id, peer] of Object.entries(peers)) results.cold[id] = await pipInstall(peer.simple, projects, scratch, id);

  step(`warm pip install, ${SETTINGS.pipRounds} rounds per peer, interleaved`);
  const times = { nginx: [], cacheforge: [] };
  for (let round = 0; round < SETTINGS.pipRounds; round++) {
    for (const [id, peer] of Object.entries(peers)) times[id].push(await pipInstall(peer.simple, projects, scratch, id));
  }
  for (const id of Object.keys(peers)) results.pip[id] = { median: median(times[id]), all: times[id] };

  const small = tree.files.find((f) => f.project === 'cf-bench-01');
  const large = tree.files.find((f) => f.project === 'setuptools');
  // setuptools has not been asked for yet: one GET each primes it.
  for (const peer of Object.values(peers)) {
    peer.small = await fileUrl(peer.simple, 'cf-bench-01', small.filename);
    peer.large = await fileUrl(peer.simple, 'setuptools', large.filename);
    await httpGet(peer.large, 30_000);
    await httpGet(`${peer.simple}cf-bench-01/`, 5000);
    await runCommand('curl', ['-sS', '--noproxy', '*', '-o', '/dev/null', '-H', 'Accept: text/html', `${peer.simple}cf-bench-01/`]);
    await expectHit(peer.small, peer.statusHeader);
    await expectHit(peer.large, peer.statusHeader);
    await expectHit(`${peer.simple}cf-bench-01/`, peer.statusHeader, { Accept: PIP_ACCEPT });
    await expectHit(`${peer.simple}cf-bench-01/`, peer.statusHeader, { Accept: 'text/html' });
  }
  const scenarios = [
    { id: 'pageJson', label: 'project page, JSON (pip Accept)', url: (p) => `${p.simple}cf-bench-01/`, headers: { accept: PIP_ACCEPT } },
    { id: 'pageHtml', label: 'project page, HTML', url: (p) => `${p.simple}cf-bench-01/`, headers: { accept: 'text/html' } },
    { id: 'wheelSmall', label: `wheel hit, ${(small.size / 1024).toFixed(1)} KiB`, url: (p) => p.small, headers: {} },
    { id: 'wheelLarge', label: `wheel hit, ${(large.size / 1024 / 1024).toFixed(2)} MiB (setuptools)`, url: (p) => p.large, headers: {}, connections: 8 },
  ];
  step('wrk warm-up, 3 s per peer (JIT, keep-alive pools)');
  for (const peer of Object.values(peers)) await wrk(scenarios[0].url(peer), { connections: SETTINGS.connections, seconds: 3, headers: scenarios[0].headers });
  for (const s of scenarios) {
    step(`wrk: ${s.label}`);
    results.wrk[s.id] = { label: s.label };
    for (const [id, peer] of Object.entries(peers)) {
      results.wrk[s.id][id] = await wrk(s.url(peer), { connections: s.connections ?? SETTINGS.connections, seconds: SETTINGS.seconds, headers: s.headers });
    }
  }

  step('stopping the servers');
  await cf.stop();
  await ngx.stop();
  await upstream.stop();
  results.meta = runMeta(started);

  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = [
    ...scenarios.map((s) => {
      const w = results.wrk[s.id];
      return [`${s.label} req/s`, f(w.nginx.rps, 0), f(w.cacheforge.rps, 0), `${f(w.cacheforge.rps / w.nginx.rps)}x`,
        `${f(w.nginx.p99)} / ${f(w.cacheforge.p99)}`, `${w.nginx.non2xx + w.nginx.socketErrors} / ${w.cacheforge.non2xx + w.cacheforge.socketErrors}`];
    }),
    [`pip install ${projects.length} wheels, warm (median s)`, f(results.pip.nginx.median), f(results.pip.cacheforge.median),
      `${f(results.pip.nginx.median / results.pip.cacheforge.median)}x`, '-', '-'],
    [`pip install ${projects.length} wheels, cold (s)`, f(results.cold.nginx), f(results.cold.cacheforge), `${f(results.cold.nginx / results.cold.cacheforge)}x`, '-', '-'],
  ];
  process.stdout.write(`\nPyPI: Cache Forge vs nginx proxy_cache (${results.meta.cpus} CPUs, node ${results.meta.node}, ${results.meta.nginx}); ratio > 1 means Cache Forge is faster\n\n`);
  process.stdout.write(`${table(['scenario', 'nginx', 'Cache Forge', 'ratio', 'p99 ms (ngx / CF)', 'errors (ngx / CF)'], rows)}\n\n`);
  writeJson(RESULTS, results);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s`);
}

await runBench('pypi', (values) => main(values));
