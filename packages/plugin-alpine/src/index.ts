import { definePlugin } from '@cacheforge/core';
import { alpineClientSetup } from './client-setup.js';
import { AlpineHandler } from './handler.js';

/** apk keeps an index 4 hours in its own cache and never revalidates: Cache Forge does, this often. */
const INDEX_TTL = 5 * 60_000;

/**
 * Alpine Linux apk repositories (`dl-cdn.alpinelinux.org/alpine/` or any mirror of it): every
 * branch, repository and architecture below the upstream. `APKINDEX.tar.gz` is revalidated after
 * its TTL and served stale while the upstream is down; `.apk` files are kept forever, each
 * verified against its index record before it is stored.
 */
export default definePlugin({
  name: 'alpine',
  core: '^0.1.0',
  description: 'Alpine Linux apk repositories, packages verified against APKINDEX',
  classes: {
    // Packages, and the release images and their checksums (a new release gets a new name).
    immutable: ['\\.apk$', '(^|/)releases/[^/]+/[^/]+\\.(iso|tar\\.gz|img\\.gz|qcow2|sha256|sha512|asc)$'],
    mutable: ['(^|/)APKINDEX\\.tar\\.gz$'],
    fallback: 'mutable',
    ttl: { mutable: INDEX_TTL },
  },
  // Alpine's CDN: every branch, repository and architecture is below it.
  defaultRemotes: () => ({ alpine: { upstream: 'https://dl-cdn.alpinelinux.org/alpine/' } }),
  clientSetup: (_remote, target) => alpineClientSetup(target),
  createHandler(remote, { log, metrics }) {
    const unlisted = metrics?.counter({
      name: 'unlisted_packages_total',
      help: 'Packages no stored APKINDEX lists, stored checked on their length only.',
    });
    return new AlpineHandler(remote.upstream, log, unlisted);
  },
});
