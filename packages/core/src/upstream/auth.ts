import type { AuthFetch, UpstreamAuth } from '../contract/upstream-auth.js';
import { authBodyTooLarge } from './outcome.js';
import { discardBody, type UpstreamCall, type UpstreamResponse } from './response.js';

/** Largest body an auth round trip (a token response) may have. */
const AUTH_BODY_MAX = 1024 * 1024;

/** Sends one logical request (`once`: a single attempt). */
export type Send = (call: UpstreamCall, once?: boolean) => Promise<UpstreamResponse>;

/**
 * A remote's upstream auth (a token flow its plugin implements): the credentials it gives go on
 * every request, and a 401 with a challenge is answered once, through a bounded GET to an
 * allowed host that does not itself go through the hook.
 */
export class AuthRoundTrip {
  constructor(private readonly auth: UpstreamAuth, private readonly plain: Send, private readonly checkHost: (url: URL) => void,
    private readonly remote: string) {}

  /** `call`, with the credentials the auth gives, answering its challenge once. */
  async send(call: UpstreamCall, once: boolean): Promise<UpstreamResponse> {
    const known = await this.auth.authorize(call.url);
    const response = await this.plain(known ? { ...call, headers: { ...call.headers, ...known } } : call, once);
    const challenge = response.headers['www-authenticate'];
    // A body already sent cannot be sent again: the 401 goes back to the client as it is.
    if (response.status !== 401 || !challenge || call.body) return response;
    discardBody(response);
    const fresh = await this.auth.challenge(call.url, challenge, this.fetch);
    if (!fresh) return response;
    return this.plain({ ...call, headers: { ...call.headers, ...fresh } }, once);
  }

  /** A GET for an auth round trip: allowed hosts only, no auth hook, body read whole (bounded). */
  private readonly fetch: AuthFetch = async (url, headers) => {
    this.checkHost(url);
    const response = await this.plain({ url, method: 'GET', headers });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > AUTH_BODY_MAX) {
        response.body.destroy();
        throw authBodyTooLarge(url, this.remote, AUTH_BODY_MAX);
      }
      chunks.push(chunk);
    }
    return { status: response.status, headers: response.headers, body: Buffer.concat(chunks) };
  };
}
