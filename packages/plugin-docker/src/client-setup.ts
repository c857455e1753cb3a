import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';
import type { DockerOptions } from './options.js';

/**
 * The mirror configuration of podman/skopeo/CRI-O (`registries.conf`), containerd (`hosts.toml`)
 * and, for the default remote, the Docker daemon (`daemon.json`). Clients reach the remote
 * path-prefixed: `<cache host>/<remote>/<image>`.
 */
export function dockerClientSetup(remote: RemoteDefinition<DockerOptions>, target: SetupTarget): SetupSnippet[] {
  const cache = target.base.host;
  const http = target.base.protocol === 'http:';
  const registry = remote.options.aliases[0] ?? remote.upstream.host;
  const login = target.token ? `# then: skopeo login${http ? ' --tls-verify=false' : ''} -u any -p ${target.token} ${cache}  (podman login alike)\n` : '';
  const snippets: SetupSnippet[] = [
    {
      client: 'podman, skopeo, buildah, CRI-O', file: '/etc/containers/registries.conf.d/cacheforge.conf',
      text: `[[registry]]\nprefix = "${registry}"\nlocation = "${registry}"\n\n[[registry.mirror]]\nlocation = "${cache}/${remote.name}"\n${http ? 'insecure = true\n' : ''}${login}`,
    },
    {
      client: 'containerd', file: `/etc/containerd/certs.d/${registry}/hosts.toml`,
      text: `server = "https://${registry}"\n\n[host."${target.base.protocol}//${cache}/v2/${remote.name}"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n${target.token ? `  [host."${target.base.protocol}//${cache}/v2/${remote.name}".header]\n    Authorization = ["Bearer ${target.token}"]\n` : ''}`,
    },
  ];
  if (remote.options.default) {
    snippets.push({
      client: 'Docker daemon (Docker Hub mirror)', file: '/etc/docker/daemon.json',
      text: `${JSON.stringify({ 'registry-mirrors': [`${target.base.protocol}//${cache}`], ...(http ? { 'insecure-registries': [cache] } : {}) }, null, 2)}\n`,
    });
  }
  return snippets;
}
