import semver from 'semver';
import { z } from 'zod';
import type { ExtraMethod, FormatPlugin } from '../contract/index.js';
import { cfError, isCacheForgeError } from '../errors/errors.js';
import { CORE_VERSION } from '../version.js';
import { resolvePlugin } from './resolve.js';
import { remoteBaseShape } from '../config/schema.js';
import type { LoadedPlugin } from '../config/plugin-source.js';

const FORMAT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const EXTRA_METHODS: ReadonlySet<string> = new Set<ExtraMethod>(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Imports one plugins entry and checks it against the contract and this core's version. */
export async function loadPlugin(specifier: string, baseDir: string, searchDirs: readonly string[]): Promise<LoadedPlugin> {
  const url = resolvePlugin(specifier, baseDir, searchDirs);
  let mod: { default?: unknown };
  try {
    mod = await import(url) as { default?: unknown };
  } catch (err) {
    if (isCacheForgeError(err)) throw err;
    throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin "${specifier}" failed to load: ${(err as Error).message}`, { cause: err, detail: { plugin: specifier } });
  }
  const plugin = checkContract(mod.default, specifier);
  let options: z.ZodObject | undefined;
  if (plugin.options) {
    try {
      options = plugin.options(z);
    } catch (err) {
      throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin "${specifier}": options(z) threw: ${(err as Error).message}`, { cause: err });
    }
    if (!(options instanceof z.ZodObject)) {
      throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin "${specifier}": options(z) must return z.object({...}) built with the zod it is given`);
    }
    // NOTE: own keys only: `in` would also see Object.prototype's (`constructor`, `toString`).
    const clash = Object.keys(options.shape).filter((k) => Object.hasOwn(remoteBaseShape, k));
    if (clash.length) {
      throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin "${specifier}": options reuse the core's remote keys ${clash.join(', ')}`);
    }
  }
  return { specifier, url, plugin, options };
}

/**
 * Checks that a default export is a {@link FormatPlugin} and supports this core, so a broken
 * plugin stops the start with a reason instead of failing on its first request.
 */
export function checkContract(candidate: unknown, specifier: string): FormatPlugin<Record<string, unknown>> {
  const fail = (why: string) => cfError('CF_ERR_PLUGIN_CONTRACT',
    `plugin "${specifier}" ${why}; a plugin's default export is definePlugin({ name, core, createHandler, ... })`, { detail: { plugin: specifier } });
  if (!candidate || typeof candidate !== 'object') throw fail('has no default export object');
  const p = candidate as Partial<FormatPlugin<Record<string, unknown>>>;
  if (typeof p.name !== 'string' || !FORMAT_NAME.test(p.name)) throw fail(`has an invalid name ${JSON.stringify(p.name)} (expected ${FORMAT_NAME})`);
  if (typeof p.createHandler !== 'function') throw fail('has no createHandler function');
  if (p.options !== undefined && typeof p.options !== 'function') throw fail('has options that are not a function (zod) => z.object(...)');
  if (p.defaultRemotes !== undefined && typeof p.defaultRemotes !== 'function') throw fail('has defaultRemotes that is not a function');
  if (p.upstreamHosts !== undefined && typeof p.upstreamHosts !== 'function') throw fail('has upstreamHosts that is not a function');
  if (p.defaultUpstream !== undefined && typeof p.defaultUpstream !== 'function') throw fail('has defaultUpstream that is not a function');
  if (p.checkRemotes !== undefined && typeof p.checkRemotes !== 'function') throw fail('has checkRemotes that is not a function');
  if (p.methods !== undefined && (!Array.isArray(p.methods) || p.methods.some((m) => !EXTRA_METHODS.has(m)))) {
    throw fail(`declares methods ${JSON.stringify(p.methods)}; expected a list of ${[...EXTRA_METHODS].join(', ')}`);
  }
  if (typeof p.core !== 'string' || semver.validRange(p.core) === null) throw fail(`declares no valid core version range (core: ${JSON.stringify(p.core)})`);
  if (!semver.satisfies(CORE_VERSION, p.core, { includePrerelease: true })) {
    throw cfError('CF_ERR_PLUGIN_VERSION_MISMATCH',
      `plugin "${specifier}" supports @cacheforge/core ${p.core}, but this is ${CORE_VERSION}; install a version of the plugin made for it`,
      { detail: { plugin: specifier, supports: p.core, core: CORE_VERSION } });
  }
  for (const list of ['immutable', 'mutable'] as const) {
    for (const source of p.classes?.[list] ?? []) {
      try { new RegExp(source); } catch { throw fail(`has an invalid ${list} pattern ${JSON.stringify(source)}`); }
    }
  }
  return p as FormatPlugin<Record<string, unknown>>;
}
