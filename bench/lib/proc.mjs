// Child processes and clean-up: every process the benchmark starts is tracked here, so it can be
// stopped by its own PID at the end, on error and on Ctrl-C, and nothing is left running.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { rmSync, openSync, closeSync } from 'node:fs';

const live = new Set();
const tempDirs = new Set();

/** The environment for children: no HTTP proxy variables (everything here is 127.0.0.1). */
export const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k)));

/**
 * `env` without the settings a package manager passes to the scripts it runs (`npm_config_*`,
 * `npm_package_*`, `npm_lifecycle_*`, `pnpm_*`...). An npm started from `pnpm bench:npm` reads
 * them as its own configuration: pnpm's `npm_config_omit_lockfile_registry_resolved=true` makes
 * npm write a lockfile without `resolved` URLs, so the snapshot found no packages.
 */
export function withoutPackageManagerEnv(env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^(npm|pnpm)_/i.test(k)));
}

/**
 * Starts a long-running process (a server). Its output goes to `logFile` when given.
 * Returns the ChildProcess with an `exited` promise (resolves with the exit code or signal).
 */
export function startProcess(cmd, args, { logFile, cwd, env = cleanEnv, lastResort = 'SIGKILL' } = {}) {
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
  if (typeof fd === 'number') closeSync(fd);
  // nginx's master must not get SIGKILL (its workers would live on): SIGTERM makes it stop them.
  child.lastResort = lastResort;
  live.add(child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => { live.delete(child); resolve(code ?? signal); }));
  child.once('error', () => live.delete(child));
  return child;
}

/**
 * Stops a process: `signal`, then (each after `graceMs`) SIGTERM and, unless the process must not
 * get it (nginx), SIGKILL.
 */
export async function stopProcess(child, signal = 'SIGTERM', graceMs = 10_000) {
  if (!child) return;
  const steps = [...new Set([signal, 'SIGTERM', child.lastResort])];
  for (const sig of steps) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    if (await Promise.race([child.exited.then(() => true), sleep(graceMs, false, { ref: false })])) return;
  }
}

/**
 * Runs a command to completion, bounded by `timeoutMs` (then killed). Resolves with
 * { code, stdout, stderr, ms }; never rejects on a non-zero exit.
 */
export function runCommand(cmd, args, { timeoutMs = 60_000, cwd, env = cleanEnv } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.exited = new Promise((r) => child.once('close', r));
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); live.delete(child); reject(err); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code: code ?? signal, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

/** Registers a temp dir to remove at clean-up. */
export function ownTempDir(dir) {
  tempDirs.add(dir);
  return dir;
}

/** On error or Ctrl-C: SIGTERM to everything still running, up to `graceMs` to exit, then killAllSync. */
export async function shutdownAll(graceMs = 5000) {
  const running = [...live];
  for (const child of running) {
    try { child.kill('SIGTERM'); } catch { /* already gone */ }
  }
  await Promise.race([Promise.all(running.map((c) => c.exited)), sleep(graceMs, undefined, { ref: false })]);
  killAllSync();
}

/** Kills whatever is still running and removes the temp dirs (synchronous: safe in 'exit'). */
export function killAllSync() {
  for (const child of live) {
    try { child.kill(child.lastResort ?? 'SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A TCP port that is free on 127.0.0.1 right now (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A free 127.0.0.1 port below `below`, for servers that cannot take the kernel's ephemeral ports
 * (apt-cacher-ng 3.7 formats its port as a signed short, so 32768 and up never bind). Tries at most
 * `tries` random ports from 20000 up.
 */
export async function freePortBelow(below, tries = 50) {
  for (let i = 0; i < tries; i += 1) {
    const port = 20000 + Math.floor(Math.random() * (below - 20000));
    const free = await new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between 20000 and ${below} after ${tries} tries`);
}

/** Polls `probe` (an async function returning true when ready) for up to `timeoutMs`. */
export async function waitFor(what, probe, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { if (await probe()) return; } catch (err) { last = err; }
    await sleep(100);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s${last ? `: ${last.message}` : ''}`);
}
