import type { AuthChallengeRequest, BearerAuth, RemoteDefinition } from '@cacheforge/core';
import { registryMount } from './mount.js';

/** The repository a registry path below the remote names (`library/busybox` of `library/busybox/manifests/latest`). */
export function repositoryOf(rawPath: string): string | undefined {
  return /^(.+?)\/(manifests|blobs|tags|referrers)\//.exec(rawPath)?.[1];
}

/**
 * The distribution token flow towards registry clients when reads need a token: a 401 names
 * Cache Forge's own token endpoint, the remote as `service` and the repository's pull scope, so
 * docker, containerd and skopeo fetch a bearer for exactly that repository (the core issues it).
 */
export const clientBearer: BearerAuth = {
  challenge(req: AuthChallengeRequest) {
    const realm = `Bearer realm="${req.base}/-/docker/token"`;
    if (!req.remote) return { header: `${realm},service="cacheforge"` };
    const repo = repositoryOf(req.rawPath);
    if (repo === undefined) return { header: `${realm},service="${req.remote.name}"` };
    const scope = `repository:${repo}:pull`;
    return { header: `${realm},service="${req.remote.name}",scope="${scope}"`, scope };
  },
  readScope(asked: string, remotes: readonly RemoteDefinition<Record<string, unknown>>[]) {
    // A read token may pull; push (and `*`) are never granted by a pull-through cache.
    const m = /^repository:([^:]+):(.+)$/.exec(asked);
    if (!m || !m[2]!.split(',').includes('pull')) return undefined;
    // The remote the name routes to, the way the mount routes a manifest read of it.
    const routed = registryMount.route({ method: 'GET', rawPath: `${m[1]}/manifests/latest`, query: new URLSearchParams(), headers: {} }, remotes);
    return { scope: `repository:${m[1]}:pull`, remote: routed.kind === 'remote' ? routed.remote : undefined };
  },
};
