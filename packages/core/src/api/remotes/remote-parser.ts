import type { CacheForgeConfig, RemoteConfig } from '../../config/config.js';
import type { LoadedPlugin } from '../../config/plugin-source.js';
import { looseRemote } from '../../config/schema.js';
import { crossRemoteProblems, parseRemotes } from '../../config/remotes.js';
import { problemsFromZod, ProblemList, type ConfigProblem } from '../../config/problems.js';
import { DefaultUpstreams } from '../../config/default-upstream.js';
import { installedPlugins } from '../../plugin/load-config.js';
import { cfError } from '../../errors/errors.js';
import type { Logger } from '../../util/logger.js';

const FORMAT_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Validates a remote sent to the API exactly as a remote of the config file is validated (the
 * same schemas, the same `remotes.NAME.key` messages). A type no loaded plugin provides is loaded
 * by package name (`@cacheforge/plugin-<type>`) from where the server runs, as at the start.
 */
export class RemoteParser {
  private readonly plugins: Map<string, LoadedPlugin>;

  constructor(private readonly config: CacheForgeConfig, plugins: ReadonlyMap<string, LoadedPlugin>, private readonly log: Logger) {
    this.plugins = new Map(plugins);
  }

  plugin(type: string): LoadedPlugin | undefined {
    return this.plugins.get(type);
  }

  /** The remote's config; CF_ERR_API_BAD_REQUEST listing every problem with its key path otherwise. */
  async parse(name: string, body: unknown, others: Readonly<Record<string, RemoteConfig>>): Promise<RemoteConfig> {
    const problems = new ProblemList([]);
    const base = looseRemote.safeParse(body);
    if (!base.success) problems.report(problemsFromZod(base.error, ['remotes', name], looseRemote));
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type === 'string') await this.load(type);
    const parsed = await parseRemotes({ [name]: body }, {
      plugins: this.plugins, interpolated: [], defaultUpstreams: new DefaultUpstreams({ env: process.env, log: this.log }),
      clientDefaults: this.config.upstream, serverOffline: this.config.server.offline,
    }, problems);
    const remote = parsed[name];
    if (remote) {
      problems.add(...crossRemoteProblems(this.plugins, { ...others, [name]: remote }).filter((p) => p.path.startsWith(`remotes.${name}`)));
      if (this.plugins.get(remote.type)?.plugin.mount) {
        problems.add({ path: `remotes.${name}.type`, message: `a ${remote.type} remote is served under a root prefix set up at the start: add it to the config file` });
      }
    }
    if (problems.all.length > 0 || !remote) throw invalid(problems.all);
    return remote;
  }

  /** Loads the first-party plugin of a format not loaded yet, when it is installed; else parseRemotes names the type. */
  private async load(type: string): Promise<void> {
    if (this.plugins.has(type) || !FORMAT_NAME.test(type)) return;
    const cwd = process.cwd();
    const dirs = [...new Set([this.config.source.startsWith('/') ? this.config.source.replace(/\/[^/]*$/, '') : cwd, cwd])];
    try {
      const loaded = await installedPlugins.load(`@cacheforge/plugin-${type}`, cwd, dirs);
      if (loaded.plugin.name === type) this.plugins.set(type, loaded);
    } catch (err) {
      this.log.debug({ type, reason: (err as Error).message }, 'no installed plugin for a runtime remote\'s type');
    }
  }
}

function invalid(problems: readonly ConfigProblem[]) {
  const list = problems.length ? problems : [{ path: '(root)', message: 'not a remote' }];
  return cfError('CF_ERR_API_BAD_REQUEST', `invalid remote (${list.length} problem${list.length === 1 ? '' : 's'}): ${list.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    { detail: { problems: list } });
}
