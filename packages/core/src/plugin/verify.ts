import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isCacheForgeError } from '../errors/errors.js';
import { loadConfig } from './load-config.js';
import { parseRemotePath } from '../util/request-path.js';
import { isPathSpecifier } from './resolve.js';
import { loadPlugin } from './loader.js';
import { remoteDefinition } from './remote-definition.js';
import { createLogger } from '../util/logger.js';
import { Registry } from 'prom-client';
import { PluginMetricFamilies } from '../metrics/plugin-metrics.js';
import { OriginPolicy } from '../upstream/hosts.js';
import { RemoteLearnedHosts } from '../upstream/learned-hosts.js';
import type { ArtifactRequest, FormatPlugin, Handler, Route } from '../contract/index.js';
import type { RemoteConfig } from '../config/config.js';

/** The checks a plugin goes through, in order; each is reported once (over all its remotes). */
export const PLUGIN_CHECKS = [
  'loads and satisfies the plugin contract',
  'its remotes pass the config schema',
  'createHandler returns { canHandle, fetch }',
  'canHandle never throws on a valid path',
  'canHandle answers a valid route or nothing',
  'canHandle is pure: the same answer twice, the request untouched',
  'different paths get different cache keys',
] as const;

export type PluginCheckName = typeof PLUGIN_CHECKS[number];

export interface PluginCheck {
  readonly name: PluginCheckName;
  readonly ok: boolean;
  /** Why it failed (or what was not checked). */
  readonly detail?: string;
}

export interface PluginVerification {
  /** The format name, once the plugin loaded. */
  readonly format?: string;
  readonly checks: readonly PluginCheck[];
  readonly ok: boolean;
}

export interface VerifyOptions {
  /** Where a package name is resolved from (its node_modules and their parents). */
  readonly cwd: string;
  /** A remote to mount (its keys without `type`); default: the plugin's default remotes, else one on a dummy upstream. */
  readonly remote?: Record<string, unknown>;
  /** Paths below the remote the plugin is meant to serve, added to the built-in probes. */
  readonly samples?: readonly string[];
  /**
   * Paths answered from the document another path caches (npm's `koa/3.0.0` from `koa`'s), so
   * both routes carry one key by design: view → the path whose document it is. Probed as samples.
   */
  readonly views?: Readonly<Record<string, string>>;
}

/** Paths any handler must survive: ordinary, nested, encoded, non-ASCII, deep, empty, directory-like. */
const PROBES = [
  '', 'index.html', 'a/b/c-1.0.tgz', 'a/b/c-1.0.tgz.sha256', 'a/b/c', 'a/b/c/', 'UPPER/Case-2.JAR', 'with%20space/file%2Bplus.txt',
  '%C3%BCn%C3%AF/%D1%84%D0%B0%D0%B9%D0%BB.bin', `${'d/'.repeat(100)}x`, 'v2/library/alpine/manifests/latest', 'simple/requests/',
  '@scope%2fname', '-/x', 'x.json',
];

/**
 * Runs a plugin (package name or path) against the plugin contract without any upstream: it must
 * load and pass the loader's checks, its remotes must validate, and its handler's `canHandle` must
 * be a total, pure function from requests to valid routes. `cacheforge verify-plugin` and the
 * conformance kit's `pluginSuite` print or assert this report.
 */
export async function verifyPlugin(specifier: string, options: VerifyOptions): Promise<PluginVerification> {
  const checks: PluginCheck[] = [];
  const finish = (format?: string): PluginVerification => {
    const done = new Set(checks.map((c) => c.name));
    for (const name of PLUGIN_CHECKS) if (!done.has(name)) checks.push({ name, ok: false, detail: 'not reached' });
    return { format, checks, ok: checks.every((c) => c.ok) };
  };
  const spec = isPathSpecifier(specifier) ? path.resolve(options.cwd, specifier) : specifier;

  let plugin: FormatPlugin<Record<string, unknown>>;
  try {
    plugin = (await loadPlugin(spec, options.cwd, [options.cwd])).plugin;
    checks.push({ name: 'loads and satisfies the plugin contract', ok: true });
  } catch (err) {
    checks.push({ name: 'loads and satisfies the plugin contract', ok: false, detail: describe(err) });
    return finish();
  }

  const remotes = await configuredRemotes(spec, plugin, options).catch((err: unknown) => err as Error);
  if (remotes instanceof Error) {
    checks.push({ name: 'its remotes pass the config schema', ok: false, detail: describe(remotes) });
    return finish(plugin.name);
  }
  checks.push({ name: 'its remotes pass the config schema', ok: true, detail: `remotes: ${remotes.map((r) => r.name).join(', ')}` });

  const handlers: { remote: RemoteConfig; handler: Handler }[] = [];
  const log = createLogger('silent');
  const broken: string[] = [];
  // Its own registry: the declarations are checked as at start, and nothing is served.
  const metrics = new PluginMetricFamilies(new Registry());
  for (const remote of remotes) {
    try {
      const learnedHosts = new RemoteLearnedHosts(new OriginPolicy(remote.upstream, remote.allowedHosts), remote.name);
      const handler = plugin.createHandler(remoteDefinition(remote), { log, metrics: metrics.forRemote(plugin.name, spec, remote.name), learnedHosts });
      if (!handler || typeof handler.canHandle !== 'function' || typeof handler.fetch !== 'function') broken.push(`${remote.name}: returned ${typeof handler}`);
      else handlers.push({ remote, handler });
    } catch (err) {
      broken.push(`${remote.name}: threw ${describe(err)}`);
    }
  }
  checks.push({ name: 'createHandler returns { canHandle, fetch }', ok: broken.length === 0, detail: broken.join('; ') || undefined });
  if (broken.length) return finish(plugin.name);

  const { threw, invalid, impure, collisions } = probeHandlers(handlers, plugin, options);
  const report = (name: PluginCheckName, failures: string[]) => checks.push({
    name, ok: failures.length === 0, detail: failures.length ? `${failures.slice(0, 5).join('; ')}${failures.length > 5 ? ` (+${failures.length - 5} more)` : ''}` : undefined,
  });
  report('canHandle never throws on a valid path', threw);
  report('canHandle answers a valid route or nothing', invalid);
  report('canHandle is pure: the same answer twice, the request untouched', impure);
  report('different paths get different cache keys', collisions);
  return finish(plugin.name);
}

interface ProbeFailures { threw: string[]; invalid: string[]; impure: string[]; collisions: string[] }

/** Asks every handler about every probe and sample path, GET and HEAD, collecting what breaks a rule. */
function probeHandlers(handlers: readonly { remote: RemoteConfig; handler: Handler }[], plugin: FormatPlugin<Record<string, unknown>>, options: VerifyOptions): ProbeFailures {
  const failures: ProbeFailures = { threw: [], invalid: [], impure: [], collisions: [] };
  const parse = (raw: string) => {
    try {
      return parseRemotePath(raw, { encodedSlash: plugin.paths?.encodedSlash });
    } catch {
      return undefined; // the server answers 400 before any handler sees it
    }
  };
  const views = new Map(Object.entries(options.views ?? {}).map(([view, of]) => [parse(view)?.path ?? view, parse(of)?.path ?? of]));
  const documentOf = (p: string) => views.get(p) ?? p;
  const paths = [...PROBES, ...(options.samples ?? []), ...Object.keys(options.views ?? {})];
  for (const { remote, handler } of handlers) {
    const keys = new Map<string, string>();
    for (const raw of paths) {
      const parsed = parse(raw);
      if (!parsed) continue;
      for (const method of ['GET', 'HEAD'] as const) {
        const where = `${remote.name} ${method} /${raw}`;
        const request = probeRequest(remote.name, method, raw, parsed.path, parsed.segments);
        let first: Route | undefined;
        let second: Route | undefined;
        try {
          first = handler.canHandle(request);
          second = handler.canHandle(request);
        } catch (err) {
          failures.threw.push(`${where}: ${describe(err)}`);
          continue;
        }
        const problem = routeProblem(first);
        if (problem) { failures.invalid.push(`${where}: ${problem}`); continue; }
        if (JSON.stringify(first) !== JSON.stringify(second)) failures.impure.push(`${where}: ${JSON.stringify(first)} then ${JSON.stringify(second)}`);
        if (first?.kind === 'cached' && method === 'GET') {
          const key = `${first.key}\u0000${first.variant ?? ''}`;
          const other = keys.get(key);
          if (other !== undefined && documentOf(other) !== documentOf(parsed.path)) failures.collisions.push(`${remote.name}: /${other} and /${parsed.path} both cache as ${JSON.stringify(first.key)}`);
          keys.set(key, parsed.path);
        }
      }
    }
  }
  return failures;
}

/** The remotes the plugin would run with: `options.remote`, else its defaults, else one on a dummy upstream. */
async function configuredRemotes(spec: string, plugin: FormatPlugin<Record<string, unknown>>, options: VerifyOptions): Promise<RemoteConfig[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cf-verify-plugin-'));
  try {
    const file = path.join(dir, 'cacheforge.config.json');
    const write = (remotes?: Record<string, unknown>) => writeFile(file, JSON.stringify({ log: { level: 'silent' }, plugins: [spec], ...(remotes ? { remotes } : {}) }));
    await write(options.remote ? { verify: { type: plugin.name, ...options.remote } } : undefined);
    let loaded = await loadConfig({ configPath: file, cwd: options.cwd });
    if (Object.keys(loaded.config.remotes).length === 0) {
      await write({ verify: { type: plugin.name, upstream: 'http://127.0.0.1:9/' } });
      loaded = await loadConfig({ configPath: file, cwd: options.cwd });
    }
    return Object.values(loaded.config.remotes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A frozen request, so a handler that writes to it fails loudly (in strict mode) instead of passing. */
function probeRequest(remote: string, method: 'GET' | 'HEAD', rawPath: string, decoded: string, segments: readonly string[]): ArtifactRequest {
  return Object.freeze({
    method, remote, path: decoded, segments: Object.freeze([...segments]), rawPath, search: '',
    headers: Object.freeze({ host: '127.0.0.1:8080', 'user-agent': 'cacheforge-verify-plugin' }),
    publicBase: new URL(`http://127.0.0.1:8080/${remote}/`),
  }) as ArtifactRequest;
}

function routeProblem(route: Route | undefined): string | undefined {
  if (route === undefined || route === null) return undefined;
  if (typeof route !== 'object') return `returned ${typeof route}`;
  switch (route.kind) {
    case 'passthrough': return undefined;
    case 'refused':
      if (![403, 404, 405].includes(route.status)) return `refused with status ${String(route.status)} (expected 403, 404 or 405)`;
      return typeof route.reason === 'string' && route.reason ? undefined : 'refused without a reason';
    case 'cached':
      // NOTE: '' is a key (the remote's root, for a format whose path is the key).
      if (typeof route.key !== 'string') return 'cached without a string key';
      if (route.key.includes('\u0000')) return 'a cache key with a NUL character';
      if (route.class !== undefined && route.class !== 'immutable' && route.class !== 'mutable') return `unknown class ${JSON.stringify(route.class)}`;
      if (route.ttl !== undefined && !(typeof route.ttl === 'number' && route.ttl >= 0)) return `ttl ${JSON.stringify(route.ttl)} is not a duration in ms`;
      if (route.variant !== undefined && typeof route.variant !== 'string') return 'a variant that is not a string';
      return undefined;
    default:
      return `unknown route kind ${JSON.stringify((route as { kind?: unknown }).kind)}`;
  }
}

function describe(err: unknown): string {
  if (isCacheForgeError(err)) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}
