import path from 'node:path';
import { existsSync } from 'node:fs';
import { cosmiconfig } from 'cosmiconfig';
import { cfError, isCacheForgeError } from '../errors/errors.js';
import { coreSchema, UPSTREAM_DEFAULTS } from './schema.js';
import { applyEnvOverrides, envName, ENV_PREFIX } from './env-overrides.js';
import { interpolate, type Substitution } from './interpolate.js';
import { coerceTree } from './coerce.js';
import { problemsFromZod, formatPath, ProblemList, type ConfigProblem } from './problems.js';
import { crossRemoteProblems, defaultRemoteTree, parseRemotes, stripUndefined } from './remotes.js';
import type { LoadedPlugin, PluginSource } from './plugin-source.js';
import type { CacheForgeConfig } from './config.js';
import { DefaultUpstreams } from './default-upstream.js';
import type { Logger } from '../util/logger.js';
import type { DefaultsEnvironment } from '../contract/index.js';
import { SelfIdentity } from '../net/self.js';
import { effectivePort } from '../net/addresses.js';

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
 * Finds, reads, interpolates and validates the configuration, loading the plugins it names from
 * `pluginSource` (their schemas are part of it). Every problem is collected; if there is any, one
 * CF_ERR_CONFIG_INVALID names the file and lists them all, each with its key path. The plugin
 * layer's `loadConfig` calls this with the installed plugins.
 */
export async function loadConfigWith(pluginSource: PluginSource, options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const { raw, source } = await readRaw(options.configPath ?? (env.CACHEFORGE_CONFIG || undefined), cwd);
  const baseDir = source === EMBEDDED_DEFAULTS ? cwd : path.dirname(source);

  const interpolated = interpolate(raw ?? {}, env);
  const problems = new ProblemList(interpolated.problems.map((p) => ({ path: formatPath(p.path), message: p.message })));
  const { core, tree } = parseCore(interpolated, env, problems, options.log);

  // Plugins: what the config names, else every first-party plugin installed here.
  const searchDirs = [...new Set([baseDir, cwd])];
  const specifiers = Array.isArray(tree.plugins) && tree.plugins.every((p) => typeof p === 'string')
    ? tree.plugins as string[]
    : tree.plugins === undefined ? pluginSource.discover(searchDirs) : [];
  const plugins = await loadPlugins(pluginSource, specifiers, baseDir, searchDirs, problems);

  const port = options.port ?? core?.server.port;
  const pointsAtSelf = selfCheck(core?.server.host, port);
  const environment: DefaultsEnvironment = { env, log: options.log ?? silentLog, ...(pointsAtSelf ? { pointsAtSelf } : {}) };
  // Remotes: the config's, else the loaded plugins' defaults.
  const remoteTree = tree.remotes !== undefined
    ? (tree.remotes && typeof tree.remotes === 'object' ? tree.remotes : {}) as Record<string, unknown>
    : await defaultRemoteTree(plugins, specifiers, environment, problems);
  const remotes = await parseRemotes(remoteTree, {
    plugins, interpolated: interpolated.interpolated, defaultUpstreams: new DefaultUpstreams(environment),
    clientDefaults: core?.upstream, serverOffline: core?.server.offline ?? false,
  }, problems);
  problems.add(...crossRemoteProblems(plugins, remotes));
  if (pointsAtSelf) {
    for (const remote of Object.values(remotes)) {
      if (!pointsAtSelf(remote.upstream)) continue;
      problems.add({ path: formatPath(['remotes', remote.name, 'upstream']), message: `${remote.upstream.protocol}//${remote.upstream.host} is this Cache Forge's own listen address (server.host ${core?.server.host}, port ${port}): every miss would come back here in a loop; name the repository this remote proxies` });
    }
  }

  if (problems.all.length > 0) throw invalid(source, redactProblems(problems.all, interpolated.substitutions));
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

/** Applies the environment's overrides and validates the core keys (all but each remote's own). */
function parseCore(interpolated: ReturnType<typeof interpolate>, env: NodeJS.ProcessEnv, problems: ProblemList, log: Logger | undefined) {
  const overridden = applyEnvOverrides(interpolated.value, env, coreSchema);
  for (const variable of overridden.unknown) {
    problems.add({ path: `environment ${variable}`, message: `names no setting (settings are ${ENV_PREFIX}<KEY_PATH>, e.g. ${envName(['server', 'port'])})` });
  }
  for (const { variable, path: keyPath } of overridden.applied) log?.info({ variable, key: keyPath.join('.') }, 'setting overridden from the environment');

  // `${PORT:-8123}` is a string until the schema says what the key holds.
  coerceTree(overridden.value, coreSchema, interpolated.interpolated);
  const parsed = coreSchema.safeParse(overridden.value);
  if (!parsed.success) problems.report(problemsFromZod(parsed.error, [], coreSchema));
  return { core: parsed.success ? parsed.data : undefined, tree: (overridden.value ?? {}) as { plugins?: unknown; remotes?: unknown } };
}

/** Loads each plugins entry from `source`; a plugin that fails, or repeats a format, is a problem at its entry. */
async function loadPlugins(source: PluginSource, specifiers: readonly string[], baseDir: string, searchDirs: readonly string[],
  problems: ProblemList): Promise<Map<string, LoadedPlugin>> {
  const plugins = new Map<string, LoadedPlugin>();
  for (const [i, specifier] of specifiers.entries()) {
    try {
      const loaded = await source.load(specifier, baseDir, searchDirs);
      const existing = plugins.get(loaded.plugin.name);
      if (existing) {
        problems.add({ path: `plugins[${i}]`, message: `CF_ERR_PLUGIN_DUPLICATE: plugin "${specifier}" declares format "${loaded.plugin.name}", which plugin "${existing.specifier}" already provides; list only one of them` });
      } else {
        plugins.set(loaded.plugin.name, loaded);
      }
    } catch (err) {
      if (!isCacheForgeError(err)) throw err;
      problems.add({ path: `plugins[${i}]`, message: `${err.code}: ${err.message}` });
    }
  }
  return plugins;
}

const silentLog = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silentLog; }, level: 'silent' } as unknown as Logger;

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
