// Verdaccio 6.8.0 (the newest whose engines allow Node 20), installed from the registry into
// .bench/npm/verdaccio at bench time (never a workspace dependency), configured as in
// shared/docs/peers-bench.md, with the snapshot upstream as its uplink.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runCommand, startProcess, stopProcess, waitFor } from '../lib/proc.mjs';
import { httpGet } from '../lib/measure.mjs';

export const VERDACCIO_VERSION = '6.8.0';

export async function ensureVerdaccio(root, env, step) {
  const dir = path.join(root, '.bench/npm/verdaccio');
  const bin = path.join(dir, 'node_modules/verdaccio/bin/verdaccio');
  if (existsSync(bin)) return { dir, bin };
  step(`installing verdaccio@${VERDACCIO_VERSION} into ${path.relative(root, dir)} (once)`);
  mkdirSync(dir, { recursive: true });
  // node-fetch 3 (ESM only) breaks Verdaccio's CommonJS uplink code: pinned, see peers-bench.md.
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'cf-bench-verdaccio', private: true, dependencies: { verdaccio: VERDACCIO_VERSION }, overrides: { 'node-fetch': '2.7.0' },
  }, null, 2));
  writeFileSync(path.join(dir, 'empty.npmrc'), '');
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: '/', env }).trim();
  const result = await runCommand('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--userconfig', path.join(dir, 'empty.npmrc'), '--registry', registry],
    { cwd: dir, env, timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`installing verdaccio failed:\n${result.stderr}`);
  return { dir, bin };
}

export async function startVerdaccio({ bin, dir, port, upstreamBase, env }) {
  const storage = path.join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, [
    `storage: ${storage}`,
    `auth: { htpasswd: { file: ${path.join(dir, 'htpasswd')}, max_users: -1 } }`,
    'uplinks:',
    `  fixture: { url: ${upstreamBase}, timeout: 300s, maxage: 30m, cache: true }`,
    'packages:',
    "  '**': { access: $all, publish: $authenticated, proxy: fixture }",
    'web: { enable: false }',
    'server: { keepAliveTimeout: 60 }',
    'log: { type: stdout, format: json, level: warn }',
    '',
  ].join('\n'));
  const child = startProcess(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { cwd: dir, env, logFile: path.join(dir, 'verdaccio.log') });
  await waitFor('verdaccio', async () => (await httpGet(`http://127.0.0.1:${port}/-/ping`)).status === 200, 60_000);
  return { child, pid: child.pid, stop: () => stopProcess(child, 'SIGTERM', 10_000) };
}
