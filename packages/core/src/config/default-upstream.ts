import { baseUrl } from './fields.js';
import { formatPath, type ConfigProblem } from './problems.js';
import type { LoadedPlugin } from './plugin-source.js';
import type { DefaultsEnvironment } from '../contract/index.js';

/**
 * The upstreams of remotes whose config names none: asked of their format's plugin
 * (`defaultUpstream`) once per format and load, because discovery may run a program.
 */
export class DefaultUpstreams {
  private readonly found = new Map<string, Promise<URL | string>>();

  constructor(private readonly environment: DefaultsEnvironment) {}

  /** The default upstream of `loaded`'s format, or undefined after adding a problem at `at`. */
  async of(loaded: LoadedPlugin, at: readonly (string | number)[], problems: ConfigProblem[]): Promise<URL | undefined> {
    const where = formatPath(at);
    const { plugin, specifier } = loaded;
    if (!plugin.defaultUpstream) {
      problems.push({ path: where, message: 'required (expected string)' });
      return undefined;
    }
    let pending = this.found.get(plugin.name);
    if (!pending) {
      const discover = plugin.defaultUpstream.bind(plugin);
      pending = (async () => discover(this.environment))().catch((err: unknown) => (err as Error)?.message ?? String(err));
      this.found.set(plugin.name, pending);
    }
    const value = await pending;
    // A thrown error comes back as a string that is no URL; both end up as one coded problem.
    const parsed = baseUrl.safeParse(value);
    if (parsed.success) return parsed.data;
    problems.push({ path: where, message: `CF_ERR_PLUGIN_FAILED: no upstream configured, and plugin "${specifier}" could not discover one: ${String(value)}` });
    return undefined;
  }
}
