import type { RemoteConfig } from '../config/config.js';
import type { RemoteDefinition } from '../contract/index.js';

/** A configured remote as its plugin sees it. */
export function remoteDefinition(remote: RemoteConfig, publicUrl?: URL): RemoteDefinition<Record<string, unknown>> {
  return {
    name: remote.name,
    upstream: remote.upstream,
    options: remote.options as Record<string, unknown>,
    allowedHosts: remote.allowedHosts,
    publicBase: publicUrl ? new URL(`${encodeURIComponent(remote.name)}/`, publicUrl) : undefined,
  };
}
