import path from 'node:path';
import { existsSync } from 'node:fs';
import { cosmiconfig } from 'cosmiconfig';
import { cfError, isCacheForgeError } from '../errors/errors.js';
import { coreSchema, remoteSchema, remoteBaseShape, REMOTE_NAME, UPSTREAM_DEFAULTS, type RemoteBaseConfig } from './schema.js';
import { applyEnvOverrides, envName, ENV_PREFIX } from './env-overrides.js';
import { interpolate, type Substitution } from './interpolate.js';
import { coerceTree } from './coerce.js';
import { problemsFromZod, formatPath, type ConfigProblem } from './problems.js';
import { discoverInstalledPlugins } from '../plugin/resolve.js';
import { loadPlugin, type LoadedPlugin } from '../plugin/loader.js';
import type { CacheForgeConfig, RemoteConfig } from './config.js';
import { DefaultUpstreams } from './default-upstream.js';
import type { Logger } from '../util/logger.js';
import type { DefaultsEnvironment, RemoteProblem } from '../contract/index.js';
import { SelfIdentity } from '../upstream/self.js';
import { effectivePort } from '../upstream/addresses.js';

/** Where to look for a config and what to override on top of it. */
export interface LoadOptions {
  /** `--config FILE`; else `CACHEFORGE_CONFIG`; else a cosmiconfig search from `cwd`. */
  readonly configPath?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** `--port N`. */
  readonly port?: number;
  readonly log?: Logger;
}

/** The outcome of a successful load: the frozen config and the plugins it uses. */
export interface LoadedConfig {
  readonly config: CacheForgeConfig;
  readonly plugins: ReadonlyMap<string, LoadedPlugin>;
}

export const EMBEDDED_DEFAULTS = 'embedded defaults';

/**
 * Finds, reads, interpolates and validates the configuration, loading the plugins it names (their
 * schemas are part of it). Every problem is collected; if there is any, one CF_ERR_CONFIG_INVALID
 * names the file and lists them all, each with its key path.
 */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const { raw, source } = await readRaw(options.configPath ?? (env.CACHEFORGE_CONFIG || undefined), cwd);
  const baseDir = source === EMBEDDED_DEFAULTS ? cwd : path.dirname(source);

  const interpolated = interpolate(raw ?? {}, env);
  const problems: ConfigProblem[] = interpolated.problems.map((p) => ({ path: formatPath(p.path), message: p.message }));
  // NOTE: a key whose variable is missing holds '' now; what the schema says about that '' (not a
  // URL, too short) is noise beside the real cause, so later problems at that key are dropped.
  const unresolved = new Set(problems.map((p) => p.path));
  const report = (found: readonly ConfigProblem[]) => {
    for (const p of found) if (!unresolved.has(p.path)) problems.push(p);
  };

  const overridden = applyEnvOverrides(interpolated.value, env, coreSchema);
  for (const variable of overridden.unknown) {
    problems.push({ path: `environment ${variable}`, message: `names no setting (settings are ${ENV_PREFIX}<KEY_PATH>, e.g. ${envName(['server', 'port'])})` });
  }
  for (const { variable, path: keyPath } of overridden.applied) options.log?.info({ variable, key: keyPath.join('.') }, 'setting overridden from the environment');

  // `${PORT:-8123}` is a string until the schema says what the key holds.
  coerceTree(overridden.value, coreSchema, interpolated.interpolated);
  const parsed = coreSchema.safeParse(overridden.value);
  if (!parsed.success) report(problemsFromZod(parsed.error, [], coreSchema));
  const core = parsed.success ? parsed.data : undefined;
  const rawTree = (overridden.value ?? {}) as { plugins?: unknown; remotes?: unknown };

  // Plugins: what the config names, else every first-party plugin installed here.
  const searchDirs = [...new Set([baseDir, cwd])];
  const specifiers = Array.isArray(rawTree.plugins) && rawTree.plugins.every((p) => typeof p === 'string')
    ? rawTree.plugins as string[]
    : rawTree.plugins === undefined ? discoverInstalledPlugins(searchDirs) : [];
  const plugins = new Map<string, LoadedPlugin>();
  for (const [i, specifier] of specifiers.entries()) {
    try {
      const loaded = await loadPlugin(specifier, baseDir, searchDirs);
      const existing = plugins.get(loaded.plugin.name);
      if (existing) {
        problems.push({ path: `plugins[${i}]`, message: `CF_ERR_PLUGIN_DUPLICATE: plugin "${specifier}" declares format "${loaded.plugin.name}", which plugin "${existing.specifier}" already provides; list only one of them` });
      } else {
        plugins.set(loaded.plugin.name, loaded);
      }
    } catch (err) {
      if (!isCacheForgeError(err)) throw err;
      problems.push({ path: `plugins[${i}]`, message: `${err.code}: ${err.message}` });
    }
  }

  const pointsAtSelf = selfCheck(core?.server.host, options.port ?? core?.server.port);
  const environment: DefaultsEnvironment = { env, log: options.log ?? silentLog, ...(pointsAtSelf ? { pointsAtSelf } : {}) };
  // Remotes: the config's, else the loaded plugins' defaults.
  let remoteTree: Record<string, unknown>;
  if (rawTree.remotes !== undefined) {
    remoteTree = (rawTree.remotes && typeof rawTree.remotes === 'object' ? rawTree.remotes : {}) as Record<string, unknown>;
  } else {
    remoteTree = {};
    for (const { plugin, specifier } of plugins.values()) {
      let defaults: Record<string, Record<string, unknown>> = {};
      try {
        defaults = plugin.defaultRemotes ? await plugin.defaultRemotes(environment) : {};
      } catch (err) {
        // A plugin's bug stops the start like any other plugin problem: coded, naming the package.
        problems.push({ path: `plugins[${specifiers.indexOf(specifier)}]`, message: `CF_ERR_PLUGIN_FAILED: plugin "${specifier}": defaultRemotes() threw: ${(err as Error)?.message ?? String(err)}` });
        continue;
      }
      for (const [name, remote] of Object.entries(defaults ?? {})) remoteTree[name] = { type: plugin.name, ...remote };
    }
  }
  const remotes: Record<string, RemoteConfig> = {};
  const defaultUpstreams = new DefaultUpstreams(environment);
  for (const [name, value] of Object.entries(remoteTree)) {
    const at = ['remotes', name];
    if (!REMOTE_NAME.test(name)) {
      problems.push({ path: formatPath(at), message: `invalid remote name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (${REMOTE_NAME})` });
      continue;
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') continue; // the core schema already reported it
    const loaded = plugins.get(type);
    if (!loaded) {
      problems.push({ path: formatPath([...at, 'type']), message: `unknown remote type "${type}": expected the format of a loaded plugin (${[...plugins.keys()].join(', ') || 'none loaded'})` });
      continue;
    }
    const schema = remoteSchema(loaded.options);
    // The core schema does not know a plugin's keys: its own strings are converted by the remote's schema.
    coerceTree(value, schema, interpolated.interpolated
      .filter((p) => p.length > at.length && p[0] === 'remotes' && p[1] === name).map((p) => p.slice(at.length)));
    const result = schema.safeParse(value);
    const found = result.success ? [] : problemsFromZod(result.error, at, schema);
    // NOTE: the merged schema has the plugin's fields but not its object, so refinements and
    // transforms a plugin put on its z.object run only when that object parses its own keys.
    let pluginOptions: Record<string, unknown> | undefined;
    if (loaded.options) {
      const own = loaded.options.safeParse(Object.fromEntries(
        Object.entries(value as Record<string, unknown>).filter(([k]) => !Object.hasOwn(remoteBaseShape, k))));
      if (own.success) pluginOptions = own.data as Record<string, unknown>;
      else found.push(...problemsFromZod(own.error, at, loaded.options));
    }
    // No upstream: the format's own default, when it has one (else the same problem a missing key gets).
    const upstream = (value as { upstream?: unknown }).upstream === undefined
      ? await defaultUpstreams.of(loaded, [...at, 'upstream'], found) : undefined;
    if (found.length > 0) {
      // The base keys were already checked by the core schema, the fields by both: report each once.
      const seen = new Set(problems.map((p) => `${p.path}: ${p.message}`));
      report(found.filter((p) => !seen.has(`${p.path}: ${p.message}`) && seen.add(`${p.path}: ${p.message}`)));
      continue;
    }
    const data = result.data as RemoteBaseConfig & Record<string, unknown>;
    remotes[name] = toRemoteConfig(name, { ...data, upstream: (data.upstream ?? upstream)! }, core?.upstream, pluginOptions, core?.server.offline ?? false);
  }
  problems.push(...crossRemoteProblems(plugins, remotes));
  if (pointsAtSelf) {
    for (const remote of Object.values(remotes)) {
      if (!pointsAtSelf(remote.upstream)) continue;
      problems.push({ path: formatPath(['remotes', remote.name, 'upstream']), message: `${remote.upstream.protocol}//${remote.upstream.host} is this Cache Forge's own listen address (server.host ${core?.server.host}, port ${options.port ?? core?.server.port}): every miss would come back here in a loop; name the repository this remote proxies` });
    }
  }

  if (problems.length > 0) throw invalid(source, redactProblems(problems, interpolated.substitutions));
  if (!core) throw new Error('unreachable: core config without problems');

  const config: CacheForgeConfig = {
    ...core,
    server: { ...core.server, port: options.port ?? core.server.port },
    source,
    upstream: { ...UPSTREAM_DEFAULTS, ...stripUndefined(core.upstream) },
    plugins: specifiers,
    remotes,
    secretPaths: interpolated.secrets,
  };
  return { config: deepFreeze(config), plugins };
}

const silentLog = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silentLog; }, level: 'silent' } as unknown as Logger;

function toRemoteConfig(name: string, data: RemoteBaseConfig & Record<string, unknown> & { upstream: URL }, defaults: Record<string, unknown> | undefined,
  pluginOptions: Record<string, unknown> | undefined, serverOffline: boolean): RemoteConfig {
  const { type, upstream, include, exclude, immutable, mutable, ttl, maxSize, allowedHosts, headers, client, offline, ...rest } = data;
  const options = pluginOptions ?? rest;
  return {
    name, type, upstream, include, exclude, immutable, mutable,
    ttl: ttl ?? {}, maxSize: maxSize ?? 0, allowedHosts: allowedHosts ?? [],
    headers: Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    client: { ...UPSTREAM_DEFAULTS, ...stripUndefined(defaults ?? {}), ...stripUndefined(client ?? {}) },
    offline: offline ?? serverOffline,
    options,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Where a search looks, in each folder from the working directory up to the project root (the
 * first folder with a package.json). NOTE: cosmiconfig's own list has no `cacheforge.config.yaml`,
 * `.yml` or `.json`, the names our docs lead with, so the list is ours.
 */
export const SEARCH_PLACES = [
  'cacheforge.config.yaml', 'cacheforge.config.yml', 'cacheforge.config.json',
  'cacheforge.config.js', 'cacheforge.config.mjs', 'cacheforge.config.cjs',
  '.cacheforgerc', '.cacheforgerc.json', '.cacheforgerc.yaml', '.cacheforgerc.yml',
  '.cacheforgerc.js', '.cacheforgerc.mjs', '.cacheforgerc.cjs',
  'package.json',
] as const;

async function readRaw(configPath: string | undefined, cwd: string): Promise<{ raw: unknown; source: string }> {
  // NOTE: cosmiconfig's default strategy ('none') looks in `cwd` only; 'project' walks up to the
  // project root, so `cacheforge start` works from a subfolder as the usage text promises.
  const explorer = cosmiconfig('cacheforge', { searchPlaces: [...SEARCH_PLACES], searchStrategy: 'project' });
  if (configPath) {
    const file = path.resolve(cwd, configPath);
    if (!existsSync(file)) throw cfError('CF_ERR_CONFIG_NOT_FOUND', `config file ${file} does not exist`, { detail: { file } });
    try {
      const result = await explorer.load(file);
      return { raw: result?.config ?? {}, source: file };
    } catch (err) {
      throw cfError('CF_ERR_CONFIG_UNREADABLE', `config file ${file} cannot be parsed: ${(err as Error).message}`, { cause: err, detail: { file } });
    }
  }
  let result;
  try {
    result = await explorer.search(cwd);
  } catch (err) {
    // cosmiconfig tags a parse error with the file it was reading.
    const file = (err as { filepath?: string }).filepath ?? cwd;
    throw cfError('CF_ERR_CONFIG_UNREADABLE', `config file ${file} cannot be parsed: ${(err as Error).message}`, { cause: err, detail: { file } });
  }
  if (!result || result.isEmpty) return { raw: result?.config ?? undefined, source: result?.filepath ?? EMBEDDED_DEFAULTS };
  return { raw: result.config, source: result.filepath };
}

/**
 * Keeps environment values out of the problems about the keys they went into (and about those
 * keys' parents and children). NOTE: a schema message may quote the bad value, whole ("got
 * \"...\"") or in part (a URL's scheme), and a secret must not reach a terminal or CI log that way:
 * the quote is dropped, and the value masked wherever else it appears.
 */
function redactProblems(problems: ConfigProblem[], substitutions: readonly Substitution[]): ConfigProblem[] {
  if (substitutions.length === 0) return problems;
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return problems.map((problem) => {
    const mine = substitutions.filter((s) => related(problem.path, formatPath(s.path)) || related(formatPath(s.path), problem.path));
    if (mine.length === 0) return problem;
    let message = problem.message.replace(/, got [\s\S]*$/, '; got a value from the environment (not shown)');
    for (const { value } of mine) {
      for (const form of new Set([value, JSON.stringify(value).slice(1, -1)])) message = message.split(form).join('***');
    }
    return { ...problem, message };
  });
}

function invalid(source: string, problems: ConfigProblem[]) {
  const where = source === EMBEDDED_DEFAULTS ? 'the embedded defaults' : source;
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
  return cfError('CF_ERR_CONFIG_INVALID', `invalid configuration in ${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    { detail: { file: source, problems } });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof URL) && !(value instanceof RegExp) && !Object.isFrozen(value)) {
    if (value instanceof Set || value instanceof Map) return Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Whether a URL reaches the configured listen address; undefined when the port is chosen at start (0). */
function selfCheck(host: string | undefined, port: number | undefined): ((url: URL) => boolean) | undefined {
  if (host === undefined || !port) return undefined;
  const self = new SelfIdentity([{ host, port }]);
  return (url) => self.isSelf(url.hostname, effectivePort(url));
}

/** What each format's `checkRemotes` finds across its (individually valid) remotes. */
function crossRemoteProblems(plugins: ReadonlyMap<string, LoadedPlugin>, remotes: Readonly<Record<string, RemoteConfig>>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [format, loaded] of plugins) {
    if (!loaded.plugin.checkRemotes) continue;
    const own = Object.values(remotes).filter((r) => r.type === format).map((r) => ({ name: r.name, upstream: r.upstream, options: r.options }));
    if (own.length === 0) continue;
    let found: readonly RemoteProblem[];
    try {
      found = loaded.plugin.checkRemotes(own);
    } catch (err) {
      problems.push({ path: 'remotes', message: `CF_ERR_PLUGIN_FAILED: plugin "${format}": checkRemotes() threw: ${(err as Error)?.message ?? String(err)}` });
      continue;
    }
    for (const p of found) problems.push({ path: formatPath(['remotes', p.remote, ...p.key.split('.')]), message: p.message });
  }
  return problems;
}
