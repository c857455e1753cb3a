import type { IncomingHttpHeaders } from 'node:http';

/**
 * A format's way of authenticating to its upstream, for schemes that need a round trip (a token
 * service). The remote's upstream client asks it for headers before each request, and on a 401
 * hands it the challenge and retries once with the headers it returns. The pipeline therefore
 * authenticates fills, revalidations, HEADs and passthroughs alike, and plugins never see a
 * credential-less 401.
 */
export interface UpstreamAuth {
  /** Headers for a request to `url` before it is sent (a cached token), or nothing. */
  authorize(url: URL): Promise<Readonly<Record<string, string>> | undefined>;
  /**
   * Answers a 401 to `url`, whose `WWW-Authenticate` was `challenge`: obtains fresh credentials
   * (with `fetch`, which goes through the remote's allowed hosts) and returns the headers to
   * retry with once, or `undefined` to let the 401 stand.
   */
  challenge(url: URL, challenge: string, fetch: AuthFetch): Promise<Readonly<Record<string, string>> | undefined>;
}

/** A GET through the remote's upstream client, without the auth hook, read whole (at most 1 MiB). */
export type AuthFetch = (url: URL, headers: Readonly<Record<string, string>>) => Promise<AuthFetchResponse>;

export interface AuthFetchResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}
