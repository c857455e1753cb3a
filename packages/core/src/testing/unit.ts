import { RemotePolicy, type Classification } from '../policy/policy.js';
import type { RemoteConfig } from '../config/config.js';
import type { FormatPlugin } from '../contract/index.js';
import { remoteConfig } from './config.js';

export { checkContract } from '../plugin/loader.js';
export { withPluginHosts } from '../plugin/plugin-hosts.js';
export { describeConfig } from '../cli/describe-config.js';
export type { Classification } from '../policy/policy.js';

/**
 * How the core caches `path` of a remote of `plugin`'s format (its `classes`, under the remote's
 * own `immutable`/`mutable`/`ttl` settings when `remote` gives them): the class and the TTL.
 */
export function classify<O extends object>(plugin: FormatPlugin<O>, path: string, remote: Partial<RemoteConfig> = {}): Classification {
  return new RemotePolicy(remoteConfig({ type: plugin.name, ...remote }), plugin.classes).classify(path);
}
