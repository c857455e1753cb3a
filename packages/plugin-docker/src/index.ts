import { definePlugin } from '@cacheforge/core';
import { dockerOptions, type DockerOptions } from './options.js';
import { registryMount } from './mount.js';
import { ociErrorBody } from './errors.js';
import { clientBearer } from './client-bearer.js';
import { createDockerHandler } from './handler.js';
import { defaultRegistries } from './defaults.js';
import { dockerClientSetup } from './client-setup.js';

/**
 * The docker format: a pull-through mirror of an OCI / Docker registry (Docker Hub, GHCR, Quay,
 * GCR, registry.k8s.io, any distribution). Clients reach it as a registry at `/v2/`: path-prefixed
 * (`/v2/<remote>/<name>/…`), by containerd's `?ns=<registry>`, or at the root for the remote marked
 * `default`. Blobs and manifests by digest are immutable and verified; tags are mutable pointers
 * revalidated with HEAD and served from the store when the upstream is down or rate-limits.
 */
export default definePlugin<DockerOptions>({
  name: 'docker',
  core: '^0.1.0',
  description: 'OCI / Docker registries (docker, containerd, podman, skopeo, Kubernetes)',
  options: dockerOptions as never,
  classes: {
    immutable: ['/blobs/sha(256|512):[a-f0-9]+$', '/manifests/sha(256|512):[a-f0-9]+$'],
    mutable: ['/manifests/[^/]+$', '/tags/list$', '/referrers/[^/]+$'],
    fallback: 'mutable',
    ttl: { mutable: 5 * 60 * 1000, negative: 60 * 1000 },
  },
  defaultRemotes: () => defaultRegistries(),
  mount: registryMount,
  // The root `/v2/<name>` can serve only one registry: the Docker daemon's mirror.
  checkRemotes: (remotes) => remotes.filter((r) => r.options.default).slice(1).map((r) => ({
    remote: r.name, key: 'default',
    message: `only one docker remote may be the default (served at /v2/<name>); ${remotes.find((d) => d.options.default)!.name} already is`,
  })),
  errorBody: ociErrorBody,
  bearerAuth: clientBearer as never,
  clientSetup: (remote, target) => dockerClientSetup(remote as never, target),
  createHandler: createDockerHandler,
});
