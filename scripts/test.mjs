#!/usr/bin/env node
// Type-checks sources and tests, then runs the packages' mocha suites, a few at a time, and ends
// with one line `N passed, N failed, N skipped`. Under CI=true a skipped test fails the run: CI
// must never pass without running what it claims to.
//
// Suites run in parallel because most of their time is spent waiting on real clients and
// servers, not on the CPU; every server they start binds its own free loopback port, and the
// shared services (PostgreSQL, Redis) are used under per-run names. Each suite's output is held
// back and printed whole when it ends, so the log reads one package after another.
// CF_TEST_JOBS sets how many run at once (default 2; 1 = one after the other, output live).
import { spawn } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const only = process.argv.slice(2);
const packages = readdirSync(path.join(root, 'packages'))
  .filter((p) => existsSync(path.join(root, 'packages', p, 'test')))
  .filter((p) => only.length === 0 || only.includes(p))
  .sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b)));
const jobs = Math.max(1, Number(process.env.CF_TEST_JOBS ?? 2) || 1);

let passed = 0, failed = 0, skipped = 0;
const broken = [];

// Type-check sources and tests together first: tsx strips types when running, so a test that
// no longer matches the contract would otherwise still run.
process.stdout.write('\n=== type check (tsc -p tsconfig.tests.json) ===\n');
const tsc = spawn(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.tests.json'], { cwd: root, stdio: 'inherit' });
if (await new Promise((resolve) => tsc.on('close', resolve)) !== 0) { failed += 1; broken.push('type check'); }
else process.stdout.write('types OK\n');

/** Runs one package's suite; resolves with its counts once its output has been printed. */
function runSuite(pkg) {
  const started = Date.now();
  const live = jobs === 1;
  if (live) process.stdout.write(`\n=== @cacheforge/${pkg} ===\n`);
  else process.stdout.write(`--- started @cacheforge/${pkg}\n`);
  const mocha = path.join(root, 'node_modules', '.bin', 'mocha');
  const child = spawn(mocha, [], { cwd: path.join(root, 'packages', pkg), stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const chunks = [];
  let tail = '';
  child.stdout.on('data', (chunk) => {
    if (live) process.stdout.write(chunk); else chunks.push(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  });
  child.stderr.on('data', (chunk) => { if (live) process.stderr.write(chunk); else chunks.push(chunk); });
  return new Promise((resolve) => child.on('close', (code) => {
    if (!live) {
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      process.stdout.write(`\n=== @cacheforge/${pkg} (${seconds}s) ===\n`);
      process.stdout.write(Buffer.concat(chunks));
    }
    const count = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(tail)?.[1] ?? 0);
    resolve({ pkg, code, passing: count('passing'), failing: count('failing'), pending: count('pending') });
  }));
}

const queue = [...packages];
async function worker() {
  for (let pkg = queue.shift(); pkg !== undefined; pkg = queue.shift()) {
    const r = await runSuite(pkg);
    passed += r.passing; failed += r.failing; skipped += r.pending;
    if (r.code !== 0 && r.failing === 0) { failed += 1; broken.push(`${pkg} (mocha exited ${r.code})`); }
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, packages.length) }, worker));

if (broken.length) process.stdout.write(`\nsuites that crashed: ${broken.join(', ')}\n`);
const ci = process.env.CI === 'true';
if (ci && skipped > 0) process.stdout.write(`\nCI=true: ${skipped} skipped test(s) count as failures\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || (ci && skipped > 0) ? 1 : 0);
