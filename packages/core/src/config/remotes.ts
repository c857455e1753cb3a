import { remoteSchema, remoteBaseShape, REMOTE_NAME, UPSTREAM_DEFAULTS, type RemoteBaseConfig } from './schema.js';
import { coerceTree } from './coerce.js';
import { problemsFromZod, formatPath, type ConfigProblem, type ProblemList } from './problems.js';
import type { RemoteConfig } from './config.js';
import type { DefaultUpstreams } from './default-upstream.js';
import type { LoadedPlugin } from './plugin-source.js';
import type { DefaultsEnvironment, RemoteProblem } from '../contract/index.js';

/** What parsing the remotes needs from the rest of the load. */
export interface RemoteContext {
  readonly plugins: ReadonlyMap<string, LoadedPlugin>;
  /** Key paths whose value came from `${VAR}` (strings the schema may convert). */
  readonly interpolated: readonly (string | number)[][];
  readonly defaultUpstreams: DefaultUpstreams;
  /** The validated `upstream` client defaults, when the core config parsed. */
  readonly clientDefaults?: Record<string, unknown>;
  readonly serverOffline: boolean;
}

/** The remotes the loaded plugins add when the config names none, merged by remote name. */
export async function defaultRemoteTree(plugins: ReadonlyMap<string, LoadedPlugin>, specifiers: readonly string[],
  environment: DefaultsEnvironment, problems: ProblemList): Promise<Record<string, unknown>> {
  const tree: Record<string, unknown> = {};
  for (const { plugin, specifier } of plugins.values()) {
    let defaults: Record<string, Record<string, unknown>> = {};
    try {
      defaults = plugin.defaultRemotes ? await plugin.defaultRemotes(environment) : {};
    } catch (err) {
      // A plugin's bug stops the start like any other plugin problem: coded, naming the package.
      problems.add({ path: `plugins[${specifiers.indexOf(specifier)}]`, message: `CF_ERR_PLUGIN_FAILED: plugin "${specifier}": defaultRemotes() threw: ${(err as Error)?.message ?? String(err)}` });
      continue;
    }
    for (const [name, remote] of Object.entries(defaults ?? {})) tree[name] = { type: plugin.name, ...remote };
  }
  return tree;
}

/** Validates every remote with its plugin's schema; the valid ones, by name. */
export async function parseRemotes(tree: Record<string, unknown>, context: RemoteContext, problems: ProblemList): Promise<Record<string, RemoteConfig>> {
  const remotes: Record<string, RemoteConfig> = {};
  for (const [name, value] of Object.entries(tree)) {
    const at = ['remotes', name];
    if (!REMOTE_NAME.test(name)) {
      problems.add({ path: formatPath(at), message: `invalid remote name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (${REMOTE_NAME})` });
      continue;
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') continue; // the core schema already reported it
    const loaded = context.plugins.get(type);
    if (!loaded) {
      problems.add({ path: formatPath([...at, 'type']), message: `unknown remote type "${type}": expected the format of a loaded plugin (${[...context.plugins.keys()].join(', ') || 'none loaded'})` });
      continue;
    }
    const remote = await parseRemote(name, value, loaded, context, problems);
    if (remote) remotes[name] = remote;
  }
  return remotes;
}

async function parseRemote(name: string, value: unknown, loaded: LoadedPlugin, context: RemoteContext, problems: ProblemList): Promise<RemoteConfig | undefined> {
  const at = ['remotes', name];
  const schema = remoteSchema(loaded.options);
  // The core schema does not know a plugin's keys: its own strings are converted by the remote's schema.
  coerceTree(value, schema, context.interpolated
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
    ? await context.defaultUpstreams.of(loaded, [...at, 'upstream'], found) : undefined;
  if (found.length > 0) {
    // The base keys were already checked by the core schema, the fields by both: report each once.
    const seen = new Set(problems.all.map((p) => `${p.path}: ${p.message}`));
    problems.report(found.filter((p) => !seen.has(`${p.path}: ${p.message}`) && seen.add(`${p.path}: ${p.message}`)));
    return undefined;
  }
  const data = result.data as RemoteBaseConfig & Record<string, unknown>;
  return toRemoteConfig(name, { ...data, upstream: (data.upstream ?? upstream)! }, context.clientDefaults, pluginOptions, context.serverOffline);
}

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

export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What each format's `checkRemotes` finds across its (individually valid) remotes. */
export function crossRemoteProblems(plugins: ReadonlyMap<string, LoadedPlugin>, remotes: Readonly<Record<string, RemoteConfig>>): ConfigProblem[] {
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
