// The benchmark's upstream: a real project's dependency tree, resolved once by npm against the
// machine's registry and saved (package documents and tarballs) under .bench/npm/snapshot, so
// every later run reads only local files. The registry's origin is replaced by a placeholder in
// the saved documents and lockfile; the local upstream puts its own base there.
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cleanEnv, runCommand, withoutPackageManagerEnv } from '../lib/proc.mjs';

/** The project: a web server, a linter and a test runner, as many apps have. */
export const PROJECT = {
  name: 'cf-bench-npm-project', version: '1.0.0', private: true,
  dependencies: { express: '4.21.2', eslint: '8.57.1', mocha: '10.8.2', '@babel/core': '7.26.0' },
};
/** Stands for the upstream's base URL (ending in `/`) in saved files. */
export const ORIGIN = '__CF_BENCH_UPSTREAM__/';

/** Where a package's document is saved (scoped names keep their folder). */
export const documentFile = (dir, name) => path.join(dir, 'documents', `${name}.json`);
export const tarballPath = (dir, name, file) => path.join(dir, 'tarballs', name, file);

/** A saved snapshot worth using: it names packages and its files are there (an empty one is rebuilt). */
function usable(dir, manifest) {
  if (!existsSync(manifest)) return undefined;
  try {
    const summary = JSON.parse(readFileSync(manifest, 'utf8'));
    const complete = summary.packages > 0 && summary.tarballs > 0 && existsSync(path.join(dir, 'documents')) && existsSync(path.join(dir, 'package-lock.json'));
    return complete ? summary : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the snapshot unless a usable one exists; returns { dir, packages, tarballs }. */
export async function ensureSnapshot(root, step, env = withoutPackageManagerEnv(cleanEnv)) {
  const dir = path.join(root, '.bench/npm/snapshot');
  const manifest = path.join(dir, 'manifest.json');
  const saved = usable(dir, manifest);
  if (saved) return { dir, ...saved };
  if (existsSync(manifest)) step('the saved npm snapshot is empty or incomplete: rebuilding it');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The machine's registry as npm itself sees it, not as the package manager that started us says.
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: '/', env }).trim().replace(/\/?$/, '/');
  step('building the npm snapshot once: resolving the project with npm (package-lock only)');
  const work = path.join(dir, 'resolve');
  mkdirSync(work);
  writeFileSync(path.join(work, 'package.json'), JSON.stringify(PROJECT, null, 2));
  writeFileSync(path.join(work, 'empty.npmrc'), '');
  const resolved = await runCommand('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund',
    '--userconfig', path.join(work, 'empty.npmrc'), '--registry', registry, '--cache', path.join(work, 'cache')], { cwd: work, env, timeoutMs: 300_000 });
  if (resolved.code !== 0) throw new Error(`npm could not resolve the bench project:\n${resolved.stderr}`);
  const lock = JSON.parse(readFileSync(path.join(work, 'package-lock.json'), 'utf8'));
  const entries = Object.entries(lock.packages).filter(([key, v]) => key && v.resolved);
  const names = [...new Set(entries.map(([key, v]) => v.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)))];
  if (names.length === 0) {
    // Nothing to benchmark: saving this would make every later run fail far from the cause.
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`npm resolved the bench project to no downloadable packages (${Object.keys(lock.packages ?? {}).length} lockfile entries, none with a resolved URL); nothing was saved`);
  }
  step(`saving ${names.length} package documents and ${entries.length} tarballs (4 at a time)`);
  const fetchOk = async (url, accept) => {
    const res = await fetch(url, { headers: { accept } });
    if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  };
  await pool(names, 4, async (name) => {
    const body = await fetchOk(registry + name.replace('/', '%2f'), 'application/json');
    const file = documentFile(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body.toString('utf8').split(registry).join(ORIGIN));
  });
  await pool(entries, 4, async ([key, v]) => {
    const name = v.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const body = await fetchOk(v.resolved, '*/*');
    const [algorithm, expected] = v.integrity.split(' ')[0].split(/-(.*)/s);
    if (createHash(algorithm).update(body).digest('base64') !== expected) throw new Error(`${v.resolved}: integrity mismatch`);
    const file = tarballPath(dir, name, v.resolved.slice(v.resolved.lastIndexOf('/') + 1));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  });
  writeFileSync(path.join(dir, 'package-lock.json'), readFileSync(path.join(work, 'package-lock.json'), 'utf8').split(registry).join(ORIGIN));
  rmSync(work, { recursive: true, force: true });
  const summary = { packages: names.length, tarballs: entries.length };
  writeFileSync(manifest, JSON.stringify(summary));
  return { dir, ...summary };
}

async function pool(items, width, work) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}
