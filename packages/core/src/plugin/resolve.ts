import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cfError } from '../errors/errors.js';

/** The scope first-party plugins are published under. */
const FIRST_PARTY_PREFIX = '@cacheforge/plugin-';

/** True when a plugins entry is a filesystem path rather than a package name. */
export function isPathSpecifier(spec: string): boolean {
  return spec.startsWith('.') || path.isAbsolute(spec);
}

/**
 * Resolves a plugins entry to a module URL: a path (a file, or a package folder) relative to
 * `baseDir`, or a package name looked up from the core itself and then from `searchDirs` (the
 * config file's folder and the working directory, for plugins installed beside the user's config).
 */
export function resolvePlugin(spec: string, baseDir: string, searchDirs: readonly string[]): string {
  if (isPathSpecifier(spec)) {
    const target = path.resolve(baseDir, spec);
    if (!existsSync(target)) {
      throw cfError('CF_ERR_PLUGIN_NOT_FOUND', `plugin path ${target} does not exist`, { detail: { plugin: spec } });
    }
    return pathToFileURL(statSync(target).isDirectory() ? packageEntry(target, spec) : target).href;
  }
  try {
    return import.meta.resolve(spec);
  } catch {
    // Not resolvable from the core's own location: look where the user installed it.
  }
  for (const dir of searchDirs) {
    for (let at = path.resolve(dir); ; at = path.dirname(at)) {
      const candidate = path.join(at, 'node_modules', spec);
      if (existsSync(path.join(candidate, 'package.json'))) return pathToFileURL(packageEntry(candidate, spec)).href;
      if (path.dirname(at) === at) break;
    }
  }
  throw cfError('CF_ERR_PLUGIN_NOT_FOUND',
    `plugin package "${spec}" is not installed (looked from the core and from ${searchDirs.join(', ')}); install it, e.g. \`pnpm add ${spec}\``,
    { detail: { plugin: spec } });
}

/** The ESM entry of a package folder: `exports["."]` by condition, else `main`, else index.js. */
function packageEntry(dir: string, spec: string): string {
  const manifestPath = path.join(dir, 'package.json');
  if (!existsSync(manifestPath)) return path.join(dir, 'index.js');
  let manifest: { exports?: unknown; main?: string };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (err) {
    throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin "${spec}" has an unreadable package.json: ${(err as Error).message}`, { cause: err });
  }
  const conditions = process.execArgv.some((a) => a.includes('conditions=source')) ? ['source', 'import', 'default'] : ['import', 'default'];
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (target && typeof target === 'object' && !Array.isArray(target)) {
      const entries = target as Record<string, unknown>;
      if ('.' in entries) return pick(entries['.']);
      for (const condition of conditions) if (condition in entries) { const found = pick(entries[condition]); if (found) return found; }
    }
    return undefined;
  };
  return path.join(dir, pick(manifest.exports) ?? manifest.main ?? 'index.js');
}

/**
 * Lists the first-party plugins installed where the user runs us (`node_modules/@cacheforge/plugin-*`
 * in `dirs` and their parents): the plugins of the embedded defaults.
 */
export function discoverInstalledPlugins(dirs: readonly string[]): string[] {
  const found = new Set<string>();
  for (const dir of dirs) {
    for (let at = path.resolve(dir); ; at = path.dirname(at)) {
      const scope = path.join(at, 'node_modules', '@cacheforge');
      if (existsSync(scope)) {
        for (const entry of readdirSync(scope)) {
          const name = `@cacheforge/${entry}`;
          if (name.startsWith(FIRST_PARTY_PREFIX)) found.add(name);
        }
      }
      if (path.dirname(at) === at) break;
    }
  }
  return [...found].sort();
}
