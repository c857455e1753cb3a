import { definePlugin } from '@cacheforge/core';
import { NpmHandler } from './handler.js';
import { npmOptions, type NpmOptions } from './options.js';
import { discoverRegistry } from './registry-discovery.js';
import { npmClientSetup } from './client-setup.js';

/**
 * The npm registry format, as npm, pnpm and yarn use it: package documents (`/<name>`, full or
 * abbreviated) are mutable and revalidated after 5 minutes; tarballs (`/<name>/-/<file>`) are
 * immutable and verified against the document's integrity before they are stored. Audit,
 * search and ping are relayed; publishing is refused.
 */
export default definePlugin<NpmOptions>({
  name: 'npm',
  core: '^0.1.0',
  description: 'npm registry (npm, pnpm, yarn)',
  options: (z) => npmOptions(z),
  classes: {
    immutable: ['/-/[^/]+$'],
    mutable: ['^[^/]+$', '^@[^/]+/[^/]+$'],
    fallback: 'mutable',
    ttl: { mutable: 5 * 60_000 },
  },
  paths: { encodedSlash: true },
  // npm audit POSTs; publish, unpublish and dist-tag changes (PUT, DELETE) are refused by name.
  methods: ['POST', 'PUT', 'DELETE'],
  defaultUpstream: (env) => discoverRegistry(env),
  defaultRemotes: () => ({ npm: {} }),
  clientSetup: (_remote, target) => npmClientSetup(target),
  createHandler: (remote) => new NpmHandler(remote),
});
