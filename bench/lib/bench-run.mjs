// What every format benchmark's run.mjs repeated (bench/helm, bench/pypi): the progress line, the
// temp dir, the Cache Forge config around the remote under test, the run's metadata, a curl GET
// with headers, and the entry point (options, signals, shutdown of every child on any exit).
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ownTempDir, killAllSync, shutdownAll, runCommand } from './proc.mjs';
import { nginxVersion } from './nginx.mjs';

/** `[bench:NAME hh:mm:ss] text` on stderr. */
export function stepper(name) {
  return (text) => process.stderr.write(`[bench:${name} ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

/** A world-readable temp dir (nginx workers read it), removed at exit unless `keep`. */
export function benchTempDir(name, keep) {
  const tmp = mkdtempSync(path.join(tmpdir(), `cacheforge-bench-${name}-`));
  if (!keep) ownTempDir(tmp);
  chmodSync(tmp, 0o755);
  return tmp;
}

/** Cache Forge on 127.0.0.1:`port` with its blobs and SQLite in `dir`, one plugin and its remotes. */
export function cacheForgeConfig({ dir, port, plugin, remotes, level = 'warn' }) {
  return {
    server: { host: '127.0.0.1', port, shutdownTimeout: '5s' },
    log: { level, requests: false },
    storage: { filesystem: { path: path.join(dir, 'blobs') } },
    metadata: { sqlite: { filename: path.join(dir, 'cacheforge.db') } },
    plugins: [plugin],
    remotes,
  };
}

/** The machine and versions a result was measured on (the load average matters: the machine is shared). */
export function runMeta(started) {
  return { date: new Date().toISOString(), node: process.version, nginx: nginxVersion(), cpus: cpus().length, loadavg: loadavg(), seconds: Math.round((Date.now() - started) / 1000) };
}

/** curl GET of `url` (no proxy), body to /dev/null; returns curl's stdout: the headers, then `extra` (-w). */
export async function curlHeaders(url, headers = {}, extra = []) {
  const args = ['-sS', '--noproxy', '*', '-o', '/dev/null', '-D', '-', ...extra, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  return (await runCommand('curl', args, { timeoutMs: 120_000 })).stdout;
}

/**
 * The entry point: parses --no-build, --keep and `options` (parseArgs shapes), runs `main(values)`,
 * and stops every child process on success, failure, SIGINT or SIGTERM.
 */
export async function runBench(name, main, { options = {}, usage = '' } = {}) {
  const step = stepper(name);
  let values;
  try {
    ({ values } = parseArgs({ options: { 'no-build': { type: 'boolean' }, keep: { type: 'boolean' }, ...options } }));
  } catch (err) {
    process.stderr.write(`${err.message}\nusage: pnpm bench:${name} [--no-build] [--keep]${usage}\n`);
    process.exit(2);
  }
  let interrupted = false;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => { interrupted = true; step(`${signal}: stopping everything`); shutdownAll(5000).finally(() => process.exit(130)); });
  }
  try {
    await main({ ...values, build: !values['no-build'] });
  } catch (err) {
    if (!interrupted) step(`FAILED: ${err.stack ?? err}`);
    await shutdownAll(5000);
    process.exitCode = 1;
  }
  await shutdownAll(5000);
}
