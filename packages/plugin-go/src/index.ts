import { definePlugin, type RemoteDefinition } from '@cacheforge/core';
import { GoHandler, type GoRemote } from './handler.js';
import { parseVerifierKey, SUM_GOLANG_ORG_KEY } from './note.js';
import { ModulePatterns } from './patterns.js';
import { goClientSetup } from './client-setup.js';
import type { GoOptions } from './options.js';

export type { GoOptions } from './options.js';

function withSlash(url: string): URL {
  return new URL(url.endsWith('/') ? url : `${url}/`);
}

function remoteOf(remote: RemoteDefinition<GoOptions>): GoRemote {
  const { sumdb, sumdbKey, noSumCheck } = remote.options;
  return {
    upstream: remote.upstream,
    sumdb: sumdb ? { url: withSlash(sumdb), key: parseVerifierKey(sumdbKey ?? SUM_GOLANG_ORG_KEY) } : undefined,
    noSumCheck: new ModulePatterns(noSumCheck ?? []),
  };
}

/**
 * The Go module proxy protocol (GOPROXY) with the checksum database (GOSUMDB) proxied beside it.
 * Clients set `GOPROXY=http://<cache>/<remote>`; `.mod` and `.zip` are checked against the
 * database's signed records before they are stored.
 */
export default definePlugin<GoOptions>({
  name: 'go',
  core: '^0.1.0',
  description: 'Go modules (GOPROXY protocol) with the checksum database proxied and checked',
  options: (z) => z.object({
    sumdb: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http(s) URL').optional(),
    sumdbKey: z.string().refine((k) => { try { parseVerifierKey(k); return true; } catch { return false; } },
      'a verifier key as GOSUMDB takes it: <name>+<hash>+<base64 Ed25519 key>').default(SUM_GOLANG_ORG_KEY),
    noSumCheck: z.array(z.string().min(1)).default([]),
  }),
  classes: {
    immutable: ['/@v/[^/]+\\.(info|mod|zip)$', '^sumdb/[^/]+/tile/'],
    mutable: ['/@v/list$', '/@latest$', '^sumdb/'],
    fallback: 'mutable',
    ttl: { mutable: 5 * 60_000, negative: 60_000 },
  },
  defaultRemotes: () => ({
    go: { upstream: 'https://proxy.golang.org/', sumdb: 'https://sum.golang.org/' },
  }),
  upstreamHosts: (remote) => (remote.options.sumdb ? [withSlash(remote.options.sumdb).host] : []),
  clientSetup: (remote, target) => goClientSetup(remote, target),
  createHandler(remote, context) {
    const go = remoteOf(remote);
    if (!go.sumdb) context.log.warn({}, 'this go remote has no sumdb: modules are stored checked on their length only');
    return new GoHandler(go, context.log);
  },
});
