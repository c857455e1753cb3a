import { definePlugin } from '@cacheforge/core';
import { helmClientSetup } from './client-setup.js';
import { HelmHandler } from './handler.js';
import { helmOptions, type HelmOptions } from './options.js';

/**
 * Classic Helm chart repositories (`helm repo add`): `index.yaml` is mutable, revalidated after
 * 5 minutes and served with its chart URLs pointing back at this remote (charts on allowed
 * hosts too, such as GitHub release downloads); chart archives and provenance files are
 * immutable, and an archive is verified against its index digest before it is stored. OCI charts
 * (`oci://`) are served by the docker format.
 */
export default definePlugin<HelmOptions>({
  name: 'helm',
  core: '^0.1.0',
  description: 'Helm chart repositories (index.yaml, charts, provenance files)',
  options: (z) => helmOptions(z),
  classes: {
    mutable: ['^index\\.yaml$'],
    immutable: ['\\.(tgz|prov)$'],
    fallback: 'immutable',
    ttl: { mutable: 5 * 60_000 },
  },
  clientSetup: (remote, target) => helmClientSetup(remote as never, target),
  createHandler: (remote, context) => new HelmHandler(remote, context.log),
});
