#!/usr/bin/env node
// Go benchmark: `pnpm bench:go` (see bench/README.md). Cold and warm `go mod download` of every
// module of a local module proxy and checksum database (plugin-go's test fixture: Debian's Go
// sources zipped, a database signed by a key made at start), through Cache Forge's go remote
// against the fixture direct, in one run. Each download starts from an empty module cache.
//
// Options: --no-build   skip `npx tsc -b`;  --keep   keep the temp dir
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { freePort, ownTempDir, killAllSync, shutdownAll, runCommand, cleanEnv } from '../lib/proc.mjs';
import { buildWorkspace, embeddedConfig, startCacheForge } from '../lib/cacheforge.mjs';
import { median } from '../lib/measure.mjs';
import { table, writeJson } from '../lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/go-latest.json');
const GOCODE = '/usr/share/gocode';
const COPIES = 30;
const ROUNDS = 3;

const step = (text) => process.stderr.write(`[bench:go ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

function modules() {
  const list = [
    { Dir: `${GOCODE}/src/github.com/pkg/errors`, Path: 'github.com/pkg/errors', Version: 'v0.9.1', Time: '2020-01-14T19:47:44Z' },
    { Dir: `${GOCODE}/src/github.com/BurntSushi/toml`, Path: 'github.com/BurntSushi/toml', Version: 'v1.2.0', Time: '2022-06-08T10:00:00Z' },
    { Dir: `${GOCODE}/src/golang.org/x/mod`, Path: 'golang.org/x/mod', Version: 'v0.7.0', Time: '2022-11-15T00:00:00Z' },
  ];
  // More modules of the same real sources, so a download is many round trips as a real one is.
  for (let i = 0; i < COPIES; i++) list.push({ Dir: list[0].Dir, Path: `cf.bench/errors${i}`, Version: 'v1.0.0', Time: '2021-01-01T00:00:00Z' });
  return list;
}

async function startFixture(dir, mods) {
  const binary = path.join(dir, 'goproxy');
  const built = await runCommand('go', ['build', '-o', binary, path.join(ROOT, 'packages/plugin-go/test/fixture/goproxy.go')], {
    cwd: dir, timeoutMs: 300_000, env: { ...cleanEnv, GO111MODULE: 'off', GOPATH: GOCODE, GOCACHE: path.join(dir, 'gocache'), GOFLAGS: '' },
  });
  if (built.code !== 0) throw new Error(`building the fixture failed: ${built.stderr}`);
  const spec = path.join(dir, 'modules.json');
  writeFileSync(spec, JSON.stringify(mods));
  const child = spawn(binary, [spec], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => { out += c; if (out.includes('\n')) resolve(out.split('\n')[0]); });
    child.once('exit', (code) => reject(new Error(`the fixture exited (${code})`)));
  });
  const { port, vkey } = JSON.parse(line);
  return { child, port, vkey, proxy: `http://127.0.0.1:${port}/proxy`, sumdb: `http://127.0.0.1:${port}/sumdb/sum.cf.test` };
}

/** One `go mod download` of every module into an empty module cache; seconds. */
async function download(scratch, label, goproxy, gosumdb, mods) {
  const home = path.join(scratch, label);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const env = {
    PATH: process.env.PATH, HOME: home, GOPROXY: goproxy, GOSUMDB: gosumdb, GOENV: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-modcacherw',
    GOMODCACHE: path.join(home, 'modcache'), GOPATH: path.join(home, 'gopath'), GOCACHE: path.join(home, 'gocache'), GONOPROXY: '', GOPRIVATE: '', GONOSUMDB: '',
  };
  const { code, stderr, ms } = await runCommand('go', ['mod', 'download', ...mods.map((m) => `${m.Path}@${m.Version}`)], { cwd: home, env, timeoutMs: 300_000 });
  if (code !== 0) throw new Error(`go mod download (${label}) failed (${code}): ${stderr.slice(-2000)}`);
  rmSync(home, { recursive: true, force: true });
  return ms / 1000;
}

async function main() {
  const { values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, keep: { type: 'boolean' } } });
  const scratch = mkdtempSync(path.join(tmpdir(), 'cf-bench-go-'));
  if (!values.keep) ownTempDir(scratch);
  if (!values['no-build']) { step('building the workspace'); await buildWorkspace(ROOT); }
  const mods = modules();
  step(`starting the fixture (${mods.length} modules)`);
  const fixture = await startFixture(scratch, mods);
  const port = await freePort();
  const dir = path.join(scratch, 'cf');
  const cf = await startCacheForge({
    root: ROOT, dir, port, config: embeddedConfig({
      dir, port, plugins: ['@cacheforge/plugin-go'],
      remotes: { go: { type: 'go', upstream: `${fixture.proxy}/`, sumdb: `${fixture.sumdb}/`, sumdbKey: fixture.vkey } },
    }),
  });
  const via = `${cf.url}/go`;
  const direct = [], warm = [];
  step('cold through Cache Forge');
  const cold = await download(scratch, 'cold', via, fixture.vkey, mods);
  for (let i = 0; i < ROUNDS; i++) {
    step(`round ${i + 1}: direct, then warm through Cache Forge`);
    direct.push(await download(scratch, `direct-${i}`, fixture.proxy, `${fixture.vkey} ${fixture.sumdb}`, mods));
    warm.push(await download(scratch, `warm-${i}`, via, fixture.vkey, mods));
  }
  await cf.stop();
  fixture.child.kill('SIGTERM');
  const results = {
    when: new Date().toISOString(), cpus: cpus().length, load: loadavg()[0], modules: mods.length,
    directSeconds: median(direct), coldSeconds: cold, warmSeconds: median(warm),
    coldOverDirect: cold / median(direct), warmOverDirect: median(warm) / median(direct),
  };
  process.stdout.write(`${table(['go mod download (empty module cache)', 'seconds', 'x direct'], [
    ['direct to the fixture (median)', results.directSeconds.toFixed(2), '1.00'],
    ['cold through Cache Forge', results.coldSeconds.toFixed(2), results.coldOverDirect.toFixed(2)],
    ['warm through Cache Forge (median)', results.warmSeconds.toFixed(2), results.warmOverDirect.toFixed(2)],
  ])}\n`);
  writeJson(RESULTS, results);
}

main().then(() => shutdownAll(), async (err) => { process.stderr.write(`${err.stack ?? err}\n`); killAllSync(); await shutdownAll(); process.exit(1); });
