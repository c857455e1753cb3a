import { definePlugin } from '@cacheforge/core';
import { CargoHandler } from './handler.js';
import { cargoOptions, CRATES_IO, type CargoOptions } from './options.js';
import { upstreamToken } from './upstream-token.js';
import { cargoClientSetup } from './client-setup.js';

/**
 * Cargo's sparse registry protocol (crates.io's index.crates.io, and private registries): cargo
 * points a source at `sparse+http://<cache>/<remote>/`. `config.json` and the index files are
 * mutable and revalidated; `.crate` downloads are immutable, each checked against the sha256 its
 * index line gives before it is stored. The git index protocol is not served.
 */
export default definePlugin<CargoOptions>({
  name: 'cargo',
  core: '^0.1.0',
  description: 'cargo sparse registries (crates.io and private registries)',
  options: (z) => cargoOptions(z),
  classes: {
    immutable: ['^crates/[^/]+/[^/]+/download$'],
    mutable: ['^config\\.json$', '^(1|2|3/[^/]+|[^/]{2}/[^/]{2})/[^/]+$'],
    fallback: 'mutable',
    ttl: { mutable: 5 * 60_000 },
  },
  // publish (PUT), yank (DELETE), unyank and owner changes are refused by name, not with a bare 405.
  methods: ['PUT', 'DELETE'],
  errorBody: (error) => ({ body: { errors: [{ detail: `${error.message} (${error.code})` }] } }),
  defaultRemotes: () => ({ crates: { upstream: `https://${CRATES_IO.index}/` } }),
  clientSetup: (remote, target) => cargoClientSetup(remote, target),
  createHandler(remote, context) {
    const cratesIo = remote.upstream.hostname === CRATES_IO.index;
    const handler = new CargoHandler({
      name: remote.name,
      upstream: remote.upstream,
      allowedHosts: remote.allowedHosts ?? [],
      downloads: remote.options.downloads ?? (cratesIo ? CRATES_IO.downloads : undefined),
      api: remote.options.api ?? (cratesIo ? CRATES_IO.api : undefined),
      authRequired: context.access?.anonymousRead === false,
    }, context.learnedHosts, context.log, remote.options.token ? upstreamToken(remote.upstream, remote.options.token) : undefined);
    return handler;
  },
});
