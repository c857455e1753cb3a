#!/usr/bin/env node
// The apt remote's pool map (packages/plugin-apt/src/pool-index.ts) measured on a real, large
// Packages index: how many entries, how long the streaming read takes, and how much memory the
// map keeps once the index's bytes are gone. Run with --expose-gc (the figures are taken after
// garbage collection). `pnpm bench:apt` runs it on the Packages.xz that apt fetched through Cache
// Forge; alone:
//
//   node --expose-gc bench/apt/index-map.mjs [file] [--json out.json]
//
// `file` is a Packages index, plain or .xz/.gz/.bz2/.zst (as the plugin reads them) or .lz4 (as
// apt keeps its lists with Acquire::GzipIndexes; unpacked first with `lz4 -dc`, outside the
// figures). Without it: the machine's own main amd64 Packages from /var/lib/apt/lists.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LISTS = '/var/lib/apt/lists';
const MiB = 1024 * 1024;

/** The machine's largest main amd64 Packages list (apt's own copy), or a clear error. */
function machineList() {
  const lists = readdirSync(LISTS).filter((f) => /_main_binary-amd64_Packages(\.\w+)?$/.test(f));
  if (lists.length === 0) throw new Error(`no main amd64 Packages in ${LISTS}: run apt-get update, or name a file`);
  const sizes = lists.map((f) => [f, readFileSync(path.join(LISTS, f)).length]);
  return path.join(LISTS, sizes.sort((a, b) => b[1] - a[1])[0][0]);
}

/** The index's bytes and the name the plugin would see it under (which says its compression). */
function loadIndex(file) {
  if (file.endsWith('.lz4')) return { body: execFileSync('lz4', ['-dc', file], { maxBuffer: 1024 * MiB }), name: 'Packages' };
  return { body: readFileSync(file), name: `Packages${/\.(xz|gz|bz2|zst|lzma)$/.exec(file)?.[0] ?? ''}` };
}

function settled() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage();
}

async function measure(file) {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  const { PoolIndex } = await import(path.join(ROOT, 'packages/plugin-apt/dist/pool-index.js'));
  let index = loadIndex(file);
  const input = { bytes: index.body.length, name: index.name };
  const before = settled();
  let peakRss = before.rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
  const pool = new PoolIndex();
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const entries = await pool.add(index.body, index.name);
  const parseMs = Number(process.hrtime.bigint() - started) / 1e6;
  const { user, system } = process.cpuUsage(cpu); // this process only: an xz child is not counted
  const parseCpuMs = (user + system) / 1000;
  // A newer InRelease makes the plugin read the suite's index again: the map must not grow.
  const again = process.hrtime.bigint();
  await pool.add(index.body, index.name);
  const rereadMs = Number(process.hrtime.bigint() - again) / 1e6;
  clearInterval(sampler);
  index = undefined; // the index's bytes are only read, never kept
  const after = settled();
  const heapGrowth = after.heapUsed - before.heapUsed;
  return {
    input, entries, mapSize: pool.size, limit: pool.limit,
    parseMs: Math.round(parseMs), parseCpuMs: Math.round(parseCpuMs), rereadMs: Math.round(rereadMs),
    heapGrowthMiB: heapGrowth / MiB, rssGrowthMiB: (after.rss - before.rss) / MiB, peakRssGrowthMiB: (peakRss - before.rss) / MiB,
    heapBytesPerEntry: Math.round(heapGrowth / pool.size), rssAfterMiB: after.rss / MiB,
  };
}

function printIndexMap(r) {
  const f = (x) => x.toFixed(1);
  process.stdout.write([
    `pool map of a main amd64 ${r.input.name} (${(r.input.bytes / MiB).toFixed(1)} MiB as read): ${r.entries.toLocaleString('en-US')} entries`,
    `  read: ${r.parseMs} ms, ${r.parseCpuMs} ms of CPU in this process (again, as after a newer InRelease: ${r.rereadMs} ms, map still ${r.mapSize.toLocaleString('en-US')} entries; limit ${r.limit.toLocaleString('en-US')})`,
    `  after gc: heap +${f(r.heapGrowthMiB)} MiB (${r.heapBytesPerEntry} B an entry), RSS +${f(r.rssGrowthMiB)} MiB (peak while reading +${f(r.peakRssGrowthMiB)} MiB; process RSS ${f(r.rssAfterMiB)} MiB)`,
  ].join('\n') + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { json: { type: 'string' } } });
  try {
    const result = await measure(positionals[0] ?? machineList());
    printIndexMap(result);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`index-map: ${err.message}\n`);
    process.exitCode = 1;
  }
}
