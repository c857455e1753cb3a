#!/usr/bin/env node
// Type-checks sources and tests, then runs every package's mocha suite one after the other (they share 2 cores and loopback ports),
// streams their output, and ends with one line `N passed, N failed, N skipped`. Under CI=true a
// skipped test fails the run: CI must never pass without running what it claims to.
import { spawn } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const only = process.argv.slice(2);
const packages = readdirSync(path.join(root, 'packages'))
  .filter((p) => existsSync(path.join(root, 'packages', p, 'test')))
  .filter((p) => only.length === 0 || only.includes(p))
  .sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b)));

let passed = 0, failed = 0, skipped = 0, broken = [];

// Type-check sources and tests together first: tsx strips types when running, so a test that
// no longer matches the contract would otherwise still run.
process.stdout.write('\n=== type check (tsc -p tsconfig.tests.json) ===\n');
const tsc = spawn(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.tests.json'], { cwd: root, stdio: 'inherit' });
if (await new Promise((resolve) => tsc.on('close', resolve)) !== 0) { failed += 1; broken.push('type check'); }
else process.stdout.write('types OK\n');

for (const pkg of packages) {
  process.stdout.write(`\n=== @cacheforge/${pkg} ===\n`);
  const mocha = path.join(root, 'node_modules', '.bin', 'mocha');
  const child = spawn(mocha, [], { cwd: path.join(root, 'packages', pkg), stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  let tail = '';
  child.stdout.on('data', (chunk) => { process.stdout.write(chunk); tail = (tail + chunk.toString()).slice(-4000); });
  const code = await new Promise((resolve) => child.on('close', resolve));
  const count = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(tail)?.[1] ?? 0);
  passed += count('passing'); failed += count('failing'); skipped += count('pending');
  if (code !== 0 && count('failing') === 0) { failed += 1; broken.push(`${pkg} (mocha exited ${code})`); }
}
if (broken.length) process.stdout.write(`\nsuites that crashed: ${broken.join(', ')}\n`);
const ci = process.env.CI === 'true';
if (ci && skipped > 0) process.stdout.write(`\nCI=true: ${skipped} skipped test(s) count as failures\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || (ci && skipped > 0) ? 1 : 0);
