// Cache Forge as a real process: built with tsc, started with its own CLI and a generated config,
// stopped with SIGTERM (its graceful shutdown).
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { runCommand, startProcess, stopProcess, waitFor } from './proc.mjs';
import { httpGet } from './measure.mjs';

/** Builds the workspace (`npx tsc -b`), so the benchmark runs the current sources. */
export async function buildWorkspace(root) {
  const { code, stdout, stderr, ms } = await runCommand('npx', ['tsc', '-b'], { cwd: root, timeoutMs: 300_000 });
  if (code !== 0) throw new Error(`npx tsc -b failed (${code}):\n${stdout}${stderr}`);
  return ms;
}

/** The config: one generic remote `files` on the upstream; every file is immutable (fetched once). */
export function cacheForgeConfig({ dir, port, upstreamPort }) {
  return {
    server: { host: '127.0.0.1', port, shutdownTimeout: '5s' },
    log: { level: 'warn', requests: false },
    storage: { filesystem: { path: path.join(dir, 'blobs') } },
    metadata: { sqlite: { filename: path.join(dir, 'cacheforge.db') } },
    plugins: ['@cacheforge/plugin-generic'],
    remotes: {
      files: { type: 'generic', upstream: `http://127.0.0.1:${upstreamPort}/files/`, immutable: ['.*'] },
    },
  };
}

/**
 * Starts `node packages/core/bin/cacheforge.js start --config <dir>/cacheforge.config.json`
 * and waits for /-/ready. With `cpuProfDir`, node writes a .cpuprofile there when it exits.
 * `config` replaces the embedded-style config (filesystem + SQLite) of {@link cacheForgeConfig}.
 */
export async function startCacheForge({ root, dir, port, upstreamPort, cpuProfDir, config, env }) {
  mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'cacheforge.config.json');
  writeFileSync(configFile, `${JSON.stringify(config ?? cacheForgeConfig({ dir, port, upstreamPort }), null, 2)}\n`);
  const logFile = path.join(dir, 'cacheforge.log');
  const nodeArgs = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const child = startProcess(process.execPath, [...nodeArgs, path.join(root, 'packages/core/bin/cacheforge.js'), 'start', '--config', configFile], { cwd: root, logFile, env });
  try {
    await waitFor('cacheforge', async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${tail(logFile)}`);
      return (await httpGet(`http://127.0.0.1:${port}/-/ready`)).status === 200;
    }, 30_000);
  } catch (err) {
    await stopProcess(child, 'SIGKILL');
    throw err;
  }
  return {
    child, pid: child.pid, logFile, configFile,
    stop: () => stopProcess(child, 'SIGTERM', 15_000),
  };
}

function tail(file, lines = 8) {
  try { return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}
