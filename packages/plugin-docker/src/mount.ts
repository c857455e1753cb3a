import type { MountRequest, MountTarget, PluginMount, RemoteDefinition } from '@cacheforge/core';
import type { DockerOptions } from './options.js';
import { API_VERSION_HEADER } from './errors.js';

/**
 * `/v2/` at the root, as registry clients require: the version check itself, then per request the
 * remote picked by, in order, a first path segment naming a docker remote (path-prefixed mirrors:
 * podman/skopeo `registries.conf`, containerd with `override_path`), containerd's `?ns=<registry
 * host>` matched against each remote's upstream host and aliases, and the remote marked `default`
 * (the Docker daemon's `registry-mirrors`, which allows no path).
 */
export const registryMount: PluginMount = {
  prefix: '/v2/',
  route(req: MountRequest, remotes: readonly RemoteDefinition<Record<string, unknown>>[]): MountTarget {
    if (req.rawPath === '') {
      return { kind: 'answer', status: 200, headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' }, body: '{}' };
    }
    const slash = req.rawPath.indexOf('/');
    const first = slash === -1 ? req.rawPath : req.rawPath.slice(0, slash);
    const named = remotes.find((r) => r.name === first);
    if (named && slash !== -1) return { kind: 'remote', remote: named.name, rawPath: req.rawPath.slice(slash + 1) };
    const ns = req.query.get('ns')?.toLowerCase();
    if (ns) {
      const byHost = remotes.find((r) => servesHost(r, ns));
      // The spec's "Registry Proxying": a registry scoping a request by `ns` echoes it in OCI-Namespace.
      if (byHost) return { kind: 'remote', remote: byHost.name, rawPath: req.rawPath, headers: { 'oci-namespace': ns } };
      return { kind: 'unknown', reason: `no docker remote mirrors registry ${ns}` };
    }
    const fallback = remotes.find((r) => (r.options as unknown as DockerOptions).default);
    if (fallback) return { kind: 'remote', remote: fallback.name, rawPath: req.rawPath };
    return { kind: 'unknown', reason: 'no docker remote is named by the path and none is marked default' };
  },
};

function servesHost(remote: RemoteDefinition<Record<string, unknown>>, host: string): boolean {
  const options = remote.options as unknown as DockerOptions;
  return remote.upstream.host === host || remote.upstream.hostname === host || options.aliases.some((a) => a.toLowerCase() === host);
}
