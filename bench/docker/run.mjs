#!/usr/bin/env node
// Cache Forge as a registry mirror vs distribution (`docker-registry`, proxy mode), in one run, on
// the same upstream registry and the same image: `pnpm bench:docker` (see bench/README.md).
//
// Options: --no-build   skip `npx tsc -b`      --keep   keep the temp dir
//          --layers N   (default 4)            --layer-mib N (default 56: 4 x 56 MiB = 224 MiB)
//          --clients N  cold concurrent pulls (default 16)
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { freePort, ownTempDir, killAllSync, shutdownAll, startProcess, stopProcess, runCommand, waitFor, cleanEnv } from '../lib/proc.mjs';
import { httpGet, curl, wrk, median } from '../lib/measure.mjs';
import { table } from '../lib/report.mjs';
import { buildWorkspace, embeddedConfig, startCacheForge } from '../lib/cacheforge.mjs';
import { buildImage } from './image.mjs';
import { startFront } from './front.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/docker-latest.json');
const REPO = 'bench/big';
const TAG = '1';
const step = (text) => process.stderr.write(`[bench:docker ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const MB = 1e6;

function preflight() {
  const missing = [];
  for (const [tool, args] of [['skopeo', ['--version']], ['docker-registry', ['--version']], ['curl', ['--version']], ['wrk', ['--version']], ['tar', ['--version']]]) {
    try { execFileSync(tool, args, { stdio: 'ignore' }); } catch (err) { if (err.code === 'ENOENT') missing.push(tool); }
  }
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: apt-get install -y skopeo docker-registry curl wrk`);
}

/** Debian's docker-registry on 127.0.0.1:port, storing in dir; as a proxy of `proxyOf` when given. */
async function startRegistry(name, dir, port, proxyOf) {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const config = path.join(dir, 'config.yml');
  writeFileSync(config, [
    'version: 0.1', 'log: {level: error, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}, delete: {enabled: true}}`,
    `http: {addr: "127.0.0.1:${port}"}`, ...(proxyOf ? [`proxy: {remoteurl: ${JSON.stringify(proxyOf)}}`] : []), '',
  ].join('\n'));
  const child = startProcess('docker-registry', ['serve', config], { logFile: path.join(dir, 'registry.log') });
  await waitFor(name, async () => (await httpGet(`http://127.0.0.1:${port}/v2/`)).status === 200, 30_000);
  return { child, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, stop: () => stopProcess(child) };
}

/** skopeo, hermetic (own HOME, accept-anything policy, no registries.conf mirrors). */
function skopeoRunner(dir) {
  for (const sub of ['home', 'run', 'regd']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}');
  writeFileSync(path.join(dir, 'registries.conf'), 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n');
  const env = { ...cleanEnv, HOME: path.join(dir, 'home'), XDG_RUNTIME_DIR: path.join(dir, 'run') };
  const globals = ['--registries-conf', path.join(dir, 'registries.conf'), '--registries.d', path.join(dir, 'regd'), '--policy', path.join(dir, 'policy.json')];
  return async (args) => {
    const result = await runCommand('skopeo', [...globals, ...args], { env, timeoutMs: 900_000 });
    if (result.code !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${result.stderr}`);
    return result;
  };
}

/** One skopeo pull of the image from `host[/prefix]` into a fresh OCI layout (removed after); returns seconds. */
async function pull(skopeo, source, scratch) {
  const dest = path.join(scratch, `pull-${Math.random().toString(36).slice(2)}`);
  try {
    const { ms } = await skopeo(['copy', '--retry-times', '0', '--src-tls-verify=false', `docker://${source}/${REPO}:${TAG}`, `oci:${dest}:${TAG}`]);
    const index = JSON.parse(readFileSync(path.join(dest, 'index.json'), 'utf8'));
    return { seconds: ms / 1000, digest: index.manifests[0].digest };
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

async function main(options) {
  const started = Date.now();
  preflight();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-bench-docker-'));
  if (!options.keep) ownTempDir(dir);
  const scratch = path.join(dir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const skopeo = skopeoRunner(path.join(dir, 'skopeo'));

  step(`building a ${options.layers} x ${options.layerMiB} MiB image`);
  const image = await buildImage(path.join(dir, 'image'), { layers: options.layers, layerMiB: options.layerMiB, tag: TAG });
  const upstream = await startRegistry('upstream registry', path.join(dir, 'upstream'), await freePort());
  await skopeo(['copy', '--dest-tls-verify=false', `oci:${image.layout}:${TAG}`, `docker://${upstream.host}/${REPO}:${TAG}`]);
  const direct = await pull(skopeo, upstream.host, scratch);
  step(`pushed ${(image.totalBytes / MB).toFixed(0)} MB in ${image.layers.length} layers; manifest ${direct.digest}`);

  const frontCf = await startFront(new URL(upstream.url));
  const frontDr = await startFront(new URL(upstream.url));
  const cfDir = path.join(dir, 'cacheforge');
  const cfPort = await freePort();
  const cf = await startCacheForge({ root: ROOT, dir: cfDir, port: cfPort, config: embeddedConfig({
    dir: cfDir, port: cfPort, plugins: ['@cacheforge/plugin-docker'], remotes: { hub: { type: 'docker', upstream: `${frontCf.url}/` } },
  }) });
  const dr = await startRegistry('distribution proxy', path.join(dir, 'proxy'), await freePort(), frontDr.url);
  const peers = [
    { name: 'Cache Forge', source: `${new URL(cf.url).host}/hub`, base: `${cf.url}/v2/hub/${REPO}`, front: frontCf },
    { name: 'distribution proxy', source: dr.host, base: `${dr.url}/v2/${REPO}`, front: frontDr },
  ];
  const upstreamPeer = { name: 'upstream (direct)', source: upstream.host, base: `${upstream.url}/v2/${REPO}` };
  const results = { image: { layers: image.layers.length, bytes: image.totalBytes, digest: direct.digest }, machine: { cpus: cpus().length, loadavg: loadavg() } };

  // 1. Cold: N concurrent pulls of the same image through each (empty) peer.
  results.cold = {};
  for (const peer of peers) {
    step(`${peer.name}: ${options.clients} concurrent cold pulls`);
    const t0 = Date.now();
    const pulls = await Promise.all(Array.from({ length: options.clients }, () => pull(skopeo, peer.source, scratch)));
    const wall = (Date.now() - t0) / 1000;
    if (!pulls.every((p) => p.digest === direct.digest)) throw new Error(`${peer.name}: a cold pull got another manifest`);
    const blobGets = peer.front.count(/^GET .*\/blobs\//);
    const layerGets = image.layers.map((l) => peer.front.count(new RegExp(`^GET .*/blobs/${l.digest}$`)));
    results.cold[peer.name] = { wallSeconds: wall, medianPullSeconds: median(pulls.map((p) => p.seconds)), upstreamBlobGets: blobGets, upstreamGetsPerLayer: layerGets, upstreamMB: peer.front.bytes / MB };
    peer.front.reset();
  }

  // 2. Warm pulls: everything is cached now; rounds interleaved so load drift hits every peer alike.
  results.warm = {};
  const all = [upstreamPeer, ...peers];
  for (let round = 0; round < options.rounds; round++) {
    for (const peer of all) {
      const { seconds, digest } = await pull(skopeo, peer.source, scratch);
      if (digest !== direct.digest) throw new Error(`${peer.name}: warm pull got another manifest`);
      (results.warm[peer.name] ??= []).push(seconds);
    }
  }
  step('warm pulls done');

  // 3. Blob hit throughput: the largest layer with curl, 5 rounds each, interleaved.
  const big = image.layers.reduce((a, b) => (b.size > a.size ? b : a));
  results.blob = {};
  for (let round = 0; round < 5; round++) {
    for (const peer of all) {
      const res = await curl(`${peer.base}/blobs/${big.digest}`);
      if (res.code !== 200 || res.size !== big.size) throw new Error(`${peer.name}: blob GET gave ${res.code}, ${res.size} bytes`);
      (results.blob[peer.name] ??= []).push(res.speed / MB);
    }
  }
  // 4. Small hits: the config blob (a few hundred bytes), wrk -c16 -d5s.
  const configDigest = JSON.parse(readFileSync(path.join(image.layout, 'blobs/sha256', direct.digest.slice(7)), 'utf8')).config.digest;
  results.small = {};
  for (const peer of all) results.small[peer.name] = await wrk(`${peer.base}/blobs/${configDigest}`, { connections: 16, seconds: 5 });
  const upstreamDuringHits = peers.map((p) => p.front.count(/^GET .*\/blobs\//));
  results.upstreamBlobGetsDuringWarm = Object.fromEntries(peers.map((p, i) => [p.name, upstreamDuringHits[i]]));

  await cf.stop();
  await dr.stop();
  await upstream.stop();
  await frontCf.close();
  await frontDr.close();
  results.seconds = (Date.now() - started) / 1000;
  print(results, options);
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  step(`results written to ${path.relative(ROOT, RESULTS)}${options.keep ? `; temp dir kept: ${dir}` : ''}`);
}

function print(r, options) {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const CF = 'Cache Forge';
  const DR = 'distribution proxy';
  const warmMB = (name) => r.image.bytes / MB / median(r.warm[name]);
  console.log(`\nImage: ${r.image.layers} layers, ${f(r.image.bytes / MB, 0)} MB, ${r.image.digest}  (${r.machine.cpus} CPUs, load ${r.machine.loadavg.map((x) => x.toFixed(1)).join(' ')})\n`);
  console.log(`Cold: ${options.clients} concurrent skopeo pulls of the same image, each peer empty`);
  console.log(table(['peer', 'wall s', 'median pull s', 'upstream blob GETs', 'GETs per layer', 'upstream MB'], [CF, DR].map((n) => {
    const c = r.cold[n];
    return [n, f(c.wallSeconds, 1), f(c.medianPullSeconds, 1), c.upstreamBlobGets, c.upstreamGetsPerLayer.join('/'), f(c.upstreamMB, 0)];
  })));
  console.log(`\nWarm: one skopeo pull at a time (median of ${options.rounds}); blob hits: curl of the largest layer (median of 5); small hits: config blob, wrk -c16 -d5s`);
  const names = ['upstream (direct)', CF, DR];
  console.log(table(['peer', 'warm pull s', 'warm pull MB/s', 'blob hit MB/s', 'small hit req/s', 'small p99 ms'], names.map((n) => [
    n, f(median(r.warm[n])), f(warmMB(n), 0), f(median(r.blob[n]), 0), f(r.small[n].rps, 0), f(r.small[n].p99, 1),
  ])));
  console.log('\nRatios (Cache Forge / distribution proxy):');
  console.log(table(['measure', 'ratio'], [
    ['warm pull speed', f(warmMB(CF) / warmMB(DR))],
    ['blob hit MB/s', f(median(r.blob[CF]) / median(r.blob[DR]))],
    ['small hit req/s', f(r.small[CF].rps / r.small[DR].rps)],
    [`upstream blob GETs, ${options.clients} cold pulls`, `${r.cold[CF].upstreamBlobGets} vs ${r.cold[DR].upstreamBlobGets}`],
  ]));
  console.log(`\nupstream blob GETs during warm pulls and hits: ${JSON.stringify(r.upstreamBlobGetsDuringWarm)}; run took ${f(r.seconds, 0)} s`);
}

const { values } = parseArgs({ options: {
  'no-build': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false },
  layers: { type: 'string', default: '4' }, 'layer-mib': { type: 'string', default: '56' }, clients: { type: 'string', default: '16' }, rounds: { type: 'string', default: '3' },
} });
const options = { build: !values['no-build'], keep: values.keep, layers: Number(values.layers), layerMiB: Number(values['layer-mib']), clients: Number(values.clients), rounds: Number(values.rounds) };
process.on('SIGINT', () => { shutdownAll().finally(() => process.exit(130)); });
process.on('exit', () => { if (!options.keep) killAllSync(); });
main(options).catch(async (err) => {
  process.stderr.write(`bench:docker failed: ${err.stack ?? err}\n`);
  await shutdownAll();
  process.exit(1);
});
