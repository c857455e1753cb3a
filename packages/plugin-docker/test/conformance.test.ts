import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIGEST = 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const OTHER = 'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

// What docker, containerd, skopeo and helm ask for, on the default registries (Docker Hub with
// its library/ prefix, GHCR, Quay, ...): manifests by tag and by digest, blobs, tag lists,
// referrers, and what the API has but a mirror does not serve (uploads, the catalog).
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  samples: [
    'library/busybox/manifests/latest', `library/busybox/manifests/${DIGEST}`, `library/busybox/blobs/${DIGEST}`,
    'library/busybox/tags/list', `library/busybox/referrers/${OTHER}`, 'bitnami/charts/redis/manifests/19.0.1',
    'library/busybox/blobs/uploads/', '_catalog', 'library/busybox/manifests/-bad', 'Library/BusyBox/manifests/latest',
  ],
});
