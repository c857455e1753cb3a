#!/usr/bin/env node
// What ran while Cache Forge's event loop stalled: `node bench/helm/stalls.mjs PROFILE STALLS`,
// PROFILE the .cpuprofile and STALLS the stalls.txt that `pnpm bench:helm --cpu-prof DIR` writes
// into DIR (the main thread's profile is the one named CPU.*.0.001.cpuprofile; the others are
// worker threads'). For each stall (longest first): its length, the functions that took most of it (self
// time) and the heaviest stacks of this repository's code.
import { readFileSync } from 'node:fs';

const [profileFile, stallFile] = process.argv.slice(2);
if (!profileFile || !stallFile) {
  process.stderr.write('usage: node bench/helm/stalls.mjs PROFILE.cpuprofile stalls.txt\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (n) => n.callFrame.url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^.*\/\.pnpm\/[^/]+\/node_modules\//, '');
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;
const ours = (n) => /\/packages\/|node_modules\/yaml\//.test(n.callFrame.url);

const times = [];
let t = profile.startTime;
profile.samples.forEach((id, i) => { t += profile.timeDeltas[i] ?? 0; times.push([t, id, profile.timeDeltas[i + 1] ?? 0]); });
const stalls = readFileSync(stallFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number))
  .filter(([s, e]) => e > profile.startTime && s < profile.endTime).sort((a, b) => (b[1] - b[0]) - (a[1] - a[0]));
process.stdout.write(`${stalls.length} turns of 30 ms or more during the profile; longest first\n`);
for (const [start, end] of stalls.slice(0, 12)) {
  const self = new Map();
  const stacks = new Map();
  for (const [at, id, dt] of times) {
    if (at < start || at > end) continue;
    const n = nodes.get(id);
    self.set(label(n), (self.get(label(n)) ?? 0) + dt);
    const stack = [];
    for (let p = id; p !== undefined && stack.length < 5; p = parent.get(p)) if (ours(nodes.get(p))) stack.push(label(nodes.get(p)));
    const key = stack.join(' < ') || '(no code of ours)';
    stacks.set(key, (stacks.get(key) ?? 0) + dt);
  }
  process.stdout.write(`\n${((end - start) / 1000).toFixed(1)} ms at +${((start - profile.startTime) / 1e6).toFixed(2)} s\n`);
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 6)) process.stdout.write(`  self  ${(us / 1000).toFixed(1).padStart(6)} ms  ${name}\n`);
  for (const [stack, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 4)) process.stdout.write(`  stack ${(us / 1000).toFixed(1).padStart(6)} ms  ${stack}\n`);
}
