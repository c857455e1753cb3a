import { cfError, definePlugin } from '@cacheforge/core';
import { pickMirror, readAptSources } from './apt-sources.js';
import { aptClientSetup } from './client-setup.js';
import { AptHandler } from './handler.js';
import { POOL_ENTRIES } from './pool-index.js';

/** An apt remote's own options, beside the core's (`upstream`, `ttl`, ...). */
export interface AptOptions {
  /** Pool files (path → size, sha256) kept in memory from the indexes read; past it the least recently listed go. */
  readonly poolEntries?: number;
  /** The suites and components `/-/setup` writes in the sources it shows (the archive serves all of them). */
  readonly suites?: readonly string[];
  readonly components?: readonly string[];
}

/**
 * Debian and Ubuntu apt archives. Clients point `sources.list` at `/<remote>/` (or send apt's
 * absolute-form proxy requests, which the core routes by their target). Release files are
 * revalidated; indexes and pool files are verified against the hashes the archive publishes.
 */
export default definePlugin<AptOptions>({
  name: 'apt',
  core: '^0.1.0',
  description: 'Debian and Ubuntu apt archives (sources.list mirror or Acquire::http::Proxy)',
  options: (z) => z.object({
    poolEntries: z.number().int().min(1000, 'at least 1000 (one entry is a pool file of an index: Debian main amd64 lists ~63,000)').default(POOL_ENTRIES),
    suites: z.array(z.string().regex(/^[\w.+~/-]+$/, 'a suite name (bookworm, noble-updates)')).optional(),
    components: z.array(z.string().regex(/^[\w.+~/-]+$/, 'a component name (main, contrib)')).optional(),
  }),
  classes: {
    immutable: ['^pool/', '/by-hash/'],
    mutable: ['^dists/'],
    fallback: 'mutable',
    ttl: { mutable: 5 * 60_000 },
  },
  async defaultRemotes(env): Promise<Record<string, Record<string, unknown>>> {
    const mirror = pickMirror(await readAptSources(env.env.CF_APT_ETC), env.pointsAtSelf);
    return mirror ? { debian: {} } : {};
  },
  async defaultUpstream(env) {
    const mirror = pickMirror(await readAptSources(env.env.CF_APT_ETC), env.pointsAtSelf);
    if (!mirror) throw cfError('CF_ERR_CONFIG_INVALID', 'an apt remote without upstream mirrors the first deb source of /etc/apt, and there is none: set upstream');
    env.log.info({ upstream: mirror.href }, 'apt: remotes without upstream mirror this archive, the first deb source of the machine\'s apt sources');
    return mirror.href;
  },
  clientSetup: (remote, target) => aptClientSetup(remote, target),
  createHandler(remote, context) {
    return new AptHandler(remote.upstream, context.log, context, remote.options.poolEntries);
  },
});
