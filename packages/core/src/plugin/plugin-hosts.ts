import { cfError } from '../errors/errors.js';
import type { RemoteConfig } from '../config/config.js';
import { remoteDefinition } from './remote-definition.js';
import type { FormatPlugin } from '../contract/index.js';

/**
 * The remote's config with the hosts its plugin declares for it (`upstreamHosts`) added to its
 * `allowedHosts`: the upstream client then lets the handler fetch from them, and from nowhere else.
 */
export function withPluginHosts(remote: RemoteConfig, plugin: FormatPlugin<Record<string, unknown>>, specifier: string): RemoteConfig {
  if (!plugin.upstreamHosts) return remote;
  let hosts: readonly string[];
  try {
    hosts = plugin.upstreamHosts(remoteDefinition(remote));
  } catch (err) {
    throw cfError('CF_ERR_PLUGIN_FAILED', `plugin ${specifier} could not name the upstream hosts of remote ${remote.name}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || h.length === 0)) {
    throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin ${specifier}: upstreamHosts must return a list of host names`);
  }
  const extra = hosts.filter((h) => h.toLowerCase() !== remote.upstream.host.toLowerCase() && !remote.allowedHosts.includes(h));
  return extra.length ? { ...remote, allowedHosts: [...remote.allowedHosts, ...extra] } : remote;
}
