#!/usr/bin/env node
// Tries README's "Testing a plugin" as a new plugin author would, outside this workspace: builds
// the core, packs @cacheforge/core and @cacheforge/conformance with pnpm, writes the section's
// files (each fenced block under a `path`: line) into a fresh temp folder next to the tarballs,
// then runs `npm install`, `npm run typecheck`, `npm test` and `npm run build` there. npm uses
// its own configuration (registry, nodedir). Not part of `pnpm test`: the install takes minutes.
//
//   node scripts/try-plugin-kit.mjs [--keep]     (--keep: leave the temp folder for a look)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const keep = process.argv.includes('--keep');
const SECTION = '### Testing a plugin: the test kit';
const PLUGIN_DIR = 'cacheforge-plugin-releases';

function run(command, args, cwd) {
  process.stdout.write(`\n$ (cd ${cwd}) ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/**
 * The files of the README section: a paragraph ending in `:` that names files in backticks
 * (`package.json`:), then one fenced block per name, in order.
 */
function sectionFiles() {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no "${SECTION}"`);
  const rest = readme.slice(start + SECTION.length);
  const end = rest.search(/^#{2,3} /m);
  const files = [];
  let names = [];
  let paragraph = '';
  let fence;
  for (const line of (end < 0 ? rest : rest.slice(0, end)).split('\n')) {
    if (fence) {
      if (line !== '```') { fence.push(line); continue; }
      const name = names.shift();
      if (name) files.push({ name, text: fence.join('\n') });
      fence = undefined;
    } else if (line.startsWith('```')) {
      fence = [];
    } else if (line.trim() === '') {
      if (paragraph) names = paragraph.trim().endsWith(':') ? [...paragraph.matchAll(/`([\w./-]+\.(?:json|ts))`/g)].map((m) => m[1]) : [];
      paragraph = '';
    } else {
      paragraph += `${line}\n`;
    }
  }
  if (!files.some((f) => f.name === 'package.json')) throw new Error('no package.json found in the README section');
  return files;
}

const dir = mkdtempSync(path.join(tmpdir(), 'cf-plugin-kit-'));
let ok = false;
try {
  run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-b'], root);
  for (const pkg of ['core', 'conformance']) run('pnpm', ['pack', '--pack-destination', dir], path.join(root, 'packages', pkg));
  const plugin = path.join(dir, PLUGIN_DIR);
  for (const file of sectionFiles()) {
    mkdirSync(path.dirname(path.join(plugin, file.name)), { recursive: true });
    writeFileSync(path.join(plugin, file.name), `${file.text}\n`);
    process.stdout.write(`wrote ${PLUGIN_DIR}/${file.name}\n`);
  }
  run('npm', ['install'], plugin);
  run('npm', ['run', 'typecheck'], plugin);
  run('npm', ['test'], plugin);
  run('npm', ['run', 'build'], plugin);
  ok = true;
  process.stdout.write(`\nthe README's plugin and its tests work outside the workspace (${plugin})\n`);
} catch (err) {
  process.stdout.write(`\n${err.message}\n`);
  process.exitCode = 1;
} finally {
  if (ok && !keep) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`left for a look: ${dir}\n`);
}
