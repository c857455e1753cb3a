#!/usr/bin/env node
// The primary-index benchmark: `pnpm bench:rpm` (see bench/README.md). Fedora's Everything primary
// lists ~75,000 packages; this writes a primary.xml of that many Fedora-shaped entries
// (fixture.mjs), compresses it with Debian's gzip, xz and zstd as repositories publish it, and runs
// plugin-rpm's streaming reader over each file in a fresh `node --expose-gc` process, read from disk
// in 64 KiB chunks as from storage. Printed per compression: packages kept, parse time, the same
// file decompressed by the system tool (the floor, and the ratio), the heap and RSS growth after gc
// with the parsed map held (its size in memory, and per package), the peak RSS during the parse,
// and the worst event-loop delay while it ran.
//
// Options: --no-build  skip `npx tsc -b`;  --packages N  (default 75000);  --keep  keep the files
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, createReadStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runCommand } from '../lib/proc.mjs';
import { buildWorkspace } from '../lib/cacheforge.mjs';
import { table, writeJson } from '../lib/report.mjs';
import { locationOf, primaryXml } from './fixture.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/results/rpm-latest.json');
const FORMATS = [
  { ext: 'gz', tool: 'gzip', pack: ['-6', '-c'] },
  { ext: 'xz', tool: 'xz', pack: ['-6', '-T2', '-c'] },
  { ext: 'zst', tool: 'zstd', pack: ['-10', '-T2', '-c', '-q'] },
];

const step = (text) => process.stderr.write(`[bench:rpm ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

/** In the child: parse `file` once and print the figures as one JSON line. */
async function parseOne(file) {
  const { decompressed, parsePrimary } = await import(pathToFileURL(path.join(ROOT, 'packages/plugin-rpm/dist/primary-index.js')).href);
  const mem = () => { globalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers }; };
  // Load the decoders (xz is a lazily imported WebAssembly module) before the baseline.
  const warm = await decompressed(file, Readable.from([]));
  warm.on('error', () => undefined);
  warm.destroy();
  const before = mem();
  let peak = before.rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const { index, figures } = await parsePrimary(await decompressed(file, createReadStream(file, { highWaterMark: 64 * 1024 })));
  const ms = performance.now() - started;
  delay.disable();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const after = mem();
  const probe = process.argv.at(-1);
  const kept = index.get(probe);
  process.stdout.write(`${JSON.stringify({
    packages: index.size, xmlBytes: figures.bytes, ms, loopDelayMaxMs: delay.max / 1e6,
    heapGrowth: after.heap - before.heap, rssGrowth: after.rss - before.rss, peakRssGrowth: peak - before.rss,
    probe: kept ? { href: probe, size: kept.size, algorithm: kept.digests?.[0]?.algorithm } : undefined,
  })}\n`);
}

/** The system tool's own decompression of `file` to /dev/null (ms): the floor for any reader. */
async function toolMs(tool, file) {
  const { code, ms, stderr } = await runCommand('sh', ['-c', `${tool} -dc '${file}' > /dev/null`], { timeoutMs: 300_000 });
  if (code !== 0) throw new Error(`${tool} -dc failed: ${stderr}`);
  return ms;
}

async function writeFixture(dir, count) {
  const xml = path.join(dir, `primary-${count}.xml`);
  const done = path.join(dir, `primary-${count}.done`);
  if (existsSync(done)) return xml;
  step(`writing ${count} packages to ${xml}`);
  const out = createWriteStream(xml);
  for (const piece of primaryXml(count)) if (!out.write(piece)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  for (const f of FORMATS) {
    step(`compressing with ${f.tool} ${f.pack.join(' ')}`);
    const { code, stderr } = await runCommand('sh', ['-c', `${f.tool} ${f.pack.join(' ')} '${xml}' > '${xml}.${f.ext}'`], { timeoutMs: 600_000 });
    if (code !== 0) throw new Error(`${f.tool} failed: ${stderr}`);
  }
  writeFileSync(done, '');
  return xml;
}

async function main(options) {
  const started = Date.now();
  if (options.build) step(`built the workspace in ${((await buildWorkspace(ROOT)) / 1000).toFixed(1)} s`);
  for (const f of FORMATS) {
    const { code } = await runCommand('sh', ['-c', `command -v ${f.tool}`], { timeoutMs: 5000 });
    if (code !== 0) throw new Error(`${f.tool} is not installed (apt-get install -y gzip xz-utils zstd)`);
  }
  const dir = path.join(tmpdir(), 'cacheforge-bench-rpm');
  mkdirSync(dir, { recursive: true });
  const xml = await writeFixture(dir, options.packages);
  const probe = locationOf(options.packages, options.packages - 1);
  const results = { settings: { packages: options.packages, xmlBytes: statSync(xml).size }, formats: {} };
  for (const f of FORMATS) {
    const file = `${xml}.${f.ext}`;
    step(`${f.ext}: ${(statSync(file).size / 1e6).toFixed(1)} MB; parsing`);
    const { code, stdout, stderr } = await runCommand(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--parse', file, probe], { timeoutMs: 600_000 });
    if (code !== 0) throw new Error(`parsing ${file} failed: ${stderr}`);
    const parsed = JSON.parse(stdout.trim().split('\n').at(-1));
    if (parsed.packages !== options.packages) throw new Error(`${f.ext}: kept ${parsed.packages} packages of ${options.packages}`);
    if (!parsed.probe) throw new Error(`${f.ext}: the last package (${probe}) is not in the map`);
    results.formats[f.ext] = { fileBytes: statSync(file).size, ...parsed, toolMs: await toolMs(f.tool, file) };
  }
  results.meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), seconds: Math.round((Date.now() - started) / 1000) };
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
  report(results);
  writeJson(RESULTS, results);
  step(`results written to ${path.relative(process.cwd(), RESULTS)}; took ${results.meta.seconds} s`);
}

function report(r) {
  const mb = (x) => (x / 1e6).toFixed(1);
  const rows = Object.entries(r.formats).map(([ext, x]) => [
    ext, `${mb(x.fileBytes)} MB`, String(x.packages), x.ms.toFixed(0), x.toolMs.toFixed(0), `${(x.ms / x.toolMs).toFixed(2)}x`,
    `${mb(x.heapGrowth)} MB`, `${(x.heapGrowth / x.packages).toFixed(0)} B`, `${mb(x.rssGrowth)} MB`, `${mb(x.peakRssGrowth)} MB`, x.loopDelayMaxMs.toFixed(1),
  ]);
  process.stdout.write(`\nrpm primary index: ${r.settings.packages} packages, ${mb(r.settings.xmlBytes)} MB of XML (${r.meta.cpus} CPUs, load ${r.meta.loadavg.map((x) => x.toFixed(1)).join(' ')}, node ${r.meta.node}); ratio = parse / the tool's decompression alone\n\n`);
  process.stdout.write(`${table(['file', 'size', 'packages', 'parse ms', 'tool -dc ms', 'ratio', 'map (heap after gc)', 'per package', 'RSS growth after gc', 'peak RSS growth', 'worst loop delay ms'], rows)}\n\n`);
}

let values;
try {
  ({ values } = parseArgs({ allowPositionals: true, options: { 'no-build': { type: 'boolean' }, keep: { type: 'boolean' }, packages: { type: 'string', default: '75000' }, parse: { type: 'string' } } }));
} catch (err) {
  process.stderr.write(`${err.message}\nusage: pnpm bench:rpm [--no-build] [--packages N] [--keep]\n`);
  process.exit(2);
}
if (values.parse) {
  await parseOne(values.parse);
} else {
  try {
    await main({ build: !values['no-build'], keep: values.keep, packages: Number(values.packages) });
  } catch (err) {
    step(`FAILED: ${err.stack ?? err}`);
    process.exitCode = 1;
  }
}
