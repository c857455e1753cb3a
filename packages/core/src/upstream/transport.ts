import got, { type Got, type Request as GotRequest, type PlainResponse } from 'got';
import type { Readable } from 'node:stream';
import type { UpstreamRemote } from './settings.js';
import type { Agents } from './agents.js';
import { sameOrigin } from '../net/addresses.js';
import type { OriginPolicy } from './hosts.js';
import { transportError } from './outcome.js';
import { resolveLocation, type UpstreamCall, type UpstreamResponse } from './response.js';
import type { SelfIdentity } from '../net/self.js';

/** Headers that carry credentials whatever the remote's config says. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'] as const;

/** The redirect hook's view of the request got is about to send. */
interface RedirectOptions { url?: URL | string; headers: Record<string, unknown>; username: string; password: string }

/**
 * One attempt of one request, over got: the remote's headers and our `Via` added, redirects
 * followed only where the origin policy allows, credentials dropped when a redirect leaves the
 * original origin, raw bytes (no decoding), and body errors re-coded.
 */
export class Transport {
  private readonly got: Got;

  constructor(private readonly remote: UpstreamRemote, agents: Agents, private readonly policy: OriginPolicy, private readonly self?: SelfIdentity) {
    const client = remote.client;
    this.got = got.extend({
      agent: { http: agents.http, https: agents.https },
      decompress: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      maxRedirects: 10,
      followRedirect: (response: PlainResponse) => {
        const location = response.headers.location;
        const target = location ? resolveLocation(location, response.url) : undefined;
        return target !== undefined && policy.refusal(target) === undefined;
      },
      // 0 means no limit (got would otherwise fail at once).
      timeout: { connect: client.connectTimeout || undefined, response: client.responseTimeout || undefined, socket: client.idleTimeout || undefined },
      headers: { 'user-agent': 'cacheforge', 'accept-encoding': 'identity' },
    });
  }

  /** Sends `call` once and resolves when its response headers arrive. */
  send(call: UpstreamCall): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const stream: GotRequest = this.got.stream(call.url, {
        method: call.method,
        headers: this.headersFor(call),
        signal: call.signal,
        hooks: { beforeRedirect: [(options) => this.stripCredentials(options, call.url)] },
        // A call with a body is never retried: its one attempt may use the whole first-byte budget.
        ...(call.body ? { body: call.body, timeout: { response: this.soleAttemptTimeout() } } : {}),
      });
      // NOTE: the stream has an error listener from its creation to its end. A body error that
      // finds no listener (a reset between the headers and the consumer attaching, or on a body
      // that is only drained) is an uncaught 'error' event: it would end the process.
      let settled = false;
      stream.on('error', (err: Error) => { if (!settled) { settled = true; reject(err); } });
      stream.once('response', (response: PlainResponse) => {
        settled = true;
        // Errors on the body after this point (a cut connection, a stall) are re-coded so the
        // pipeline can tell a truncated upstream from a local fault. The consumer hears them
        // through its own listeners, or through `errored` when it attaches after the fact.
        const body = this.wrapBody(stream as unknown as Readable, call);
        resolve({ status: response.statusCode, headers: response.headers, url: new URL(response.url), body });
      });
    });
  }

  /** The response timeout of an attempt that will have no retry. */
  private soleAttemptTimeout(): number | undefined {
    const { responseTimeout, firstByteTimeout } = this.remote.client;
    if (responseTimeout === 0 || firstByteTimeout === 0) return responseTimeout || undefined;
    return Math.max(responseTimeout, firstByteTimeout);
  }

  /**
   * The remote's configured headers, the call's own, and our `Via`. A configured URL a plugin asks
   * for is one its format sends credentials to by protocol (PyPI's files host, a token realm);
   * where a redirect leads is not, so `stripCredentials` drops them there, and neither is a host
   * learned from the upstream's documents, which never gets them.
   */
  private headersFor(call: UpstreamCall): Record<string, string> {
    const configured = this.policy.credentialed(call.url) ? this.remote.headers : undefined;
    const headers: Record<string, string> = { ...configured, ...call.headers };
    if (this.self) {
      const via = Object.keys(headers).find((k) => k.toLowerCase() === 'via');
      if (via) { headers[via] = `${headers[via]}, ${this.self.via}`; } else headers.via = this.self.via;
    }
    return headers;
  }

  /**
   * Leaving the original request's origin: every credential stays behind. got drops
   * `authorization` and `cookie` when the host or port changes, but not the remote's own headers
   * (an `x-api-key`), nor anything on a scheme change.
   */
  private stripCredentials(options: RedirectOptions, original: URL): void {
    const target = options.url instanceof URL ? options.url : new URL(String(options.url));
    if (sameOrigin(target, original)) return;
    const names = new Set<string>([...CREDENTIAL_HEADERS, ...Object.keys(this.remote.headers).map((k) => k.toLowerCase())]);
    for (const name of Object.keys(options.headers)) if (names.has(name.toLowerCase())) delete options.headers[name];
    options.username = '';
    options.password = '';
    target.username = '';
    target.password = '';
  }

  private wrapBody(body: Readable, call: UpstreamCall): Readable {
    const toError = (err: unknown) => transportError(err, call, this.remote.name, true);
    const emit = body.emit.bind(body);
    const destroy = body.destroy.bind(body);
    // Re-code body errors in place, keeping the stream object (and its backpressure) as got made it.
    body.emit = ((event: string, ...args: unknown[]) => {
      if (event === 'error') return emit('error', toError(args[0]));
      return emit(event, ...args);
    }) as typeof body.emit;
    // NOTE: `errored` keeps what destroy() was given: a consumer that attaches after a cut
    // (`pipeline` reads `errored`, not the event) must get the coded error too.
    body.destroy = ((err?: Error) => destroy(err === undefined || err === null ? err : toError(err))) as typeof body.destroy;
    return body;
  }
}
