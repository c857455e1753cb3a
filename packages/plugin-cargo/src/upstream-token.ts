import type { UpstreamAuth } from '@cacheforge/core';

/**
 * The registry token, as cargo sends it (the bare token in `Authorization`), on requests to the
 * upstream's own origin only: downloads and API on other hosts, and redirects, never see it.
 */
export function upstreamToken(upstream: URL, token: string): UpstreamAuth {
  const header = { authorization: token };
  return {
    authorize: async (url) => (url.origin === upstream.origin ? header : undefined),
    // A 401 with the token sent is the registry's answer; retrying with the same token changes nothing.
    challenge: async () => undefined,
  };
}
