import type { UpstreamAuth } from '@cacheforge/core';
import type { HelmOptions } from './options.js';

/**
 * The remote's credentials (basic auth or a bearer token), sent to the upstream's own origin and
 * nowhere else: charts an index lists on other hosts (GitHub releases, a CDN) are fetched
 * without them. The core also drops them on any redirect that leaves the origin.
 */
export function originCredentials(upstream: URL, options: HelmOptions): UpstreamAuth | undefined {
  const authorization = options.token ? `Bearer ${options.token}`
    : options.username && options.password ? `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
      : undefined;
  if (!authorization) return undefined;
  const headers = { authorization };
  return {
    authorize: async (url) => (url.origin === upstream.origin ? headers : undefined),
    // A 401 with the configured credentials stands: there is nothing else to try.
    challenge: async () => undefined,
  };
}
