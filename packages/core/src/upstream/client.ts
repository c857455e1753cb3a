import got, { type Got, type Request as GotRequest, type PlainResponse } from 'got';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { cfError, isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import { formatDuration } from '../config/units.js';
import type { RemoteConfig } from '../config/config.js';
import { createAgents, type Agents } from './agents.js';
import { OriginPolicy } from './hosts.js';
import { sameOrigin } from './addresses.js';
import type { SelfIdentity } from './self.js';
import { redact } from '../util/redact.js';
import type { AuthFetch, UpstreamAuth } from '../contract/upstream-auth.js';
import { UpstreamHealth, type Admission, type UpstreamState } from './health.js';
import type { UpstreamObserver } from '../metrics/upstream-observer.js';

/** Largest body an auth round trip (a token response) may have. */
const AUTH_BODY_MAX = 1024 * 1024;

/** One request to an upstream. */
export interface UpstreamCall {
  readonly url: URL;
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly headers?: Readonly<Record<string, string>>;
  /** A request body, streamed once: a call with a body is never retried. */
  readonly body?: Readable;
  /** Aborts the request and its body. */
  readonly signal?: AbortSignal;
}

/** An upstream response whose headers have arrived; the body streams on. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** The body as raw bytes (no content decoding). Errors are coded (truncated, timeout). */
  readonly body: Readable;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT']);

/** Headers that carry credentials whatever the remote's config says. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'] as const;

/**
 * The HTTP client of one remote (got): keep-alive, proxy from the environment, timeouts, retries
 * before the first byte for idempotent failures, and requests and redirects only to the origins
 * the remote's `OriginPolicy` allows. The remote's configured `headers` go to the upstream's own
 * origin and the URLs its plugin asks for, and no credential (configured header,
 * `authorization`, `cookie`, URL userinfo) follows a redirect to another origin. Every request carries this instance's `Via`.
 */
export class UpstreamClient {
  private readonly got: Got;
  private readonly agents: Agents;
  private readonly policy: OriginPolicy;
  private auth?: UpstreamAuth;
  /** Per host this remote contacts (its upstream, a file host, a CDN it is allowed). */
  private readonly health = new Map<string, UpstreamHealth>();

  constructor(private readonly remote: RemoteConfig, private readonly observer?: UpstreamObserver, env: NodeJS.ProcessEnv = process.env,
    private readonly self?: SelfIdentity) {
    this.agents = createAgents(remote.upstream, remote.client.maxSockets, env);
    const policy = new OriginPolicy(remote.upstream, remote.allowedHosts, self);
    this.policy = policy;
    this.got = got.extend({
      agent: { http: this.agents.http, https: this.agents.https },
      decompress: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      maxRedirects: 10,
      followRedirect: (response: PlainResponse) => {
        const location = response.headers.location;
        if (!location) return false;
        const target = resolveLocation(location, response.url);
        return target !== undefined && policy.refusal(target) === undefined;
      },
      // 0 means no limit (got would otherwise fail at once).
      timeout: { connect: remote.client.connectTimeout || undefined, response: remote.client.responseTimeout || undefined, socket: remote.client.idleTimeout || undefined },
      headers: { 'user-agent': 'cacheforge', 'accept-encoding': 'identity' },
    });
  }

  /**
   * Sends `call` and resolves when the response headers arrive. Connection failures and 500/502/503/504
   * are retried (`client.retries` times, with backoff) while no byte has reached a caller.
   * @throws CF_ERR_UPSTREAM_UNAVAILABLE, CF_ERR_UPSTREAM_TIMEOUT, CF_ERR_UPSTREAM_REDIRECT.
   */
  async request(call: UpstreamCall): Promise<UpstreamResponse> {
    this.checkHost(call.url);
    let health: UpstreamHealth;
    let admission: Admission;
    try {
      if (this.remote.offline) {
        throw cfError('CF_ERR_UPSTREAM_OFFLINE', `remote ${this.remote.name} is offline: only stored artifacts are served (${call.method} ${redact(call.url)} is not)`,
          { remote: this.remote.name, op: 'upstream.request' });
      }
      health = this.healthOf(call.url.host);
      admission = health.admit();
    } catch (err) {
      // Counted as the upstream errors they stand for: a dashboard sees the requests turned away.
      this.observer?.onError(this.remote.name, (err as CacheForgeError).code);
      throw err;
    }
    try {
      const response = await this.authorized(call, admission.probe);
      health.succeeded(admission);
      return response;
    } catch (err) {
      const code = isCacheForgeError(err) ? err.code : undefined;
      // Only a host that cannot be reached counts against it; a request the client gave up on says nothing.
      if (!call.signal?.aborted && (code === 'CF_ERR_UPSTREAM_UNAVAILABLE' || code === 'CF_ERR_UPSTREAM_TIMEOUT')) health.failed(admission);
      else health.released(admission);
      throw err;
    }
  }

  /** The reachability of every host this remote has contacted. */
  states(): UpstreamState[] {
    return [...this.health.values()].map((h) => h.state());
  }

  private healthOf(host: string): UpstreamHealth {
    let health = this.health.get(host);
    if (!health) {
      health = new UpstreamHealth(this.remote.name, host, this.remote.client.downAfter, (up) => this.observer?.onHealth?.(this.remote.name, host, up, true));
      this.health.set(host, health);
      this.observer?.onHealth?.(this.remote.name, host, true, false);
    }
    return health;
  }

  /** `call`, with the credentials the remote's auth gives, answering its challenge once. */
  private async authorized(call: UpstreamCall, once: boolean): Promise<UpstreamResponse> {
    const auth = this.auth;
    if (!auth) return this.attempt(call, once);
    const known = await auth.authorize(call.url);
    const response = await this.attempt(known ? { ...call, headers: { ...call.headers, ...known } } : call, once);
    const challenge = response.headers['www-authenticate'];
    // A body already sent cannot be sent again: the 401 goes back to the client as it is.
    if (response.status !== 401 || !challenge || call.body) return response;
    discardBody(response);
    const fresh = await auth.challenge(call.url, challenge, this.authFetch);
    if (!fresh) return response;
    return this.attempt({ ...call, headers: { ...call.headers, ...fresh } }, once);
  }

  /** Makes every later request go through `auth` (set once, when the remote's handler is made). */
  useAuth(auth: UpstreamAuth): void {
    this.auth = auth;
  }

  /** A GET for an auth round trip: allowed hosts only, no auth hook, body read whole (bounded). */
  private readonly authFetch: AuthFetch = async (url, headers) => {
    this.checkHost(url);
    const response = await this.attempt({ url, method: 'GET', headers });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > AUTH_BODY_MAX) {
        response.body.destroy();
        throw cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `auth response from ${url.host} exceeds ${AUTH_BODY_MAX} bytes`, { remote: this.remote.name, op: 'upstream.auth' });
      }
      chunks.push(chunk);
    }
    return { status: response.status, headers: response.headers, body: Buffer.concat(chunks) };
  };

  private checkHost(url: URL): void {
    const refusal = this.policy.refusal(url);
    if (refusal) {
      throw cfError('CF_ERR_UPSTREAM_REDIRECT', `remote ${this.remote.name} may not contact ${redact(url)}: ${refusal}`,
        { remote: this.remote.name, op: 'upstream.request' });
    }
  }

  /**
   * One logical request: retried before the first byte on connection errors and 5xx, all of it
   * within `firstByteTimeout` (each attempt also within `responseTimeout`). `once` makes it a
   * single attempt (the probe of a down host: its failure only grows the pause).
   */
  private async attempt(call: UpstreamCall, once = false): Promise<UpstreamResponse> {
    // A request body is sent once: it is a stream the client is still sending, not ours to replay.
    const attempts = call.body || once ? 1 : this.remote.client.retries + 1;
    const deadline = new Deadline(this.remote.client.firstByteTimeout);
    const signal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal;
    const timedOut = (attempt: number) => cfError('CF_ERR_UPSTREAM_TIMEOUT',
      `no response from ${call.url.host} within ${formatDuration(this.remote.client.firstByteTimeout)} after ${attempt} attempt${attempt === 1 ? '' : 's'} (${call.method} ${redact(call.url)})`,
      { remote: this.remote.name, op: 'upstream.request', detail: { attempts: attempt } });
    try {
      for (let attempt = 1; ; attempt++) {
        const started = process.hrtime.bigint();
        try {
          const response = await this.once({ ...call, signal });
          this.observer?.onResponse(this.remote.name, response.status, Number(process.hrtime.bigint() - started) / 1e9);
          if (RETRYABLE_STATUS.has(response.status) && attempt < attempts) {
            discardBody(response);
            await sleep(backoff(attempt), undefined, { signal });
            continue;
          }
          if (response.status >= 300 && response.status < 400 && response.status !== 304) {
            discardBody(response);
            // A Location may carry credentials or a presigned query: only its redacted form is shown.
            const raw = response.headers.location;
            const target = raw ? resolveLocation(raw, response.url.href) : undefined;
            const location = target ? redact(target) : raw ? redact(raw) : '(none)';
            const why = !raw ? 'no Location' : !target ? 'an invalid Location' : this.policy.refusal(target) ?? 'a redirect not followed';
            throw cfError('CF_ERR_UPSTREAM_REDIRECT', `upstream redirected ${call.method} ${redact(call.url)} to ${location}, which remote ${this.remote.name} may not contact: ${why}`,
              { remote: this.remote.name, op: 'upstream.redirect', detail: { location } });
          }
          return response;
        } catch (err) {
          const coded = deadline.expired && !call.signal?.aborted ? timedOut(attempt) : this.toError(err, call);
          // Marked down meanwhile (by other requests): retrying would only add to the wait.
          if (coded.code === 'CF_ERR_UPSTREAM_REDIRECT' || signal.aborted || attempt >= attempts || !retryable(err) || !this.healthOf(call.url.host).up) {
            this.observer?.onError(this.remote.name, coded.code);
            throw (err as { event?: string }).event === 'response' && !deadline.expired ? timedOutEach(coded, attempt, call, this.remote) : coded;
          }
          await sleep(backoff(attempt), undefined, { signal }).catch(() => undefined);
          if (deadline.expired) {
            this.observer?.onError(this.remote.name, 'CF_ERR_UPSTREAM_TIMEOUT');
            throw timedOut(attempt);
          }
        }
      }
    } finally {
      // The body streams on after the headers: only the wait for them is bounded.
      deadline.clear();
    }
  }

  /** Frees the keep-alive sockets. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private once(call: UpstreamCall): Promise<UpstreamResponse> {
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
   * The remote's configured headers, the call's own, and our `Via`. A URL a plugin asks for is
   * one its format sends credentials to by protocol (PyPI's files host, a token realm); where a
   * redirect leads is not, so `stripCredentials` drops them there.
   */
  private headersFor(call: UpstreamCall): Record<string, string> {
    const headers: Record<string, string> = { ...this.remote.headers, ...call.headers };
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
  private stripCredentials(options: { url?: URL | string; headers: Record<string, unknown>; username: string; password: string }, original: URL): void {
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
    const toError = (err: unknown) => this.toError(err, call, true);
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

  private toError(err: unknown, call: UpstreamCall, afterHeaders = false) {
    if (isCacheForgeError(err)) return err;
    const e = err as { code?: string; name?: string; message?: string; event?: string };
    const where = `${call.method} ${redact(call.url)}`;
    const context = { remote: this.remote.name, op: afterHeaders ? 'upstream.body' : 'upstream.request', cause: err };
    if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') {
      return cfError('CF_ERR_UPSTREAM_TIMEOUT', `${where} timed out (${e.event ?? 'timeout'})`, context);
    }
    if (afterHeaders) {
      return cfError('CF_ERR_UPSTREAM_TRUNCATED', `${where}: body ended early (${e.code ?? e.message})`, context);
    }
    return cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `${where} failed: ${e.code ?? ''} ${e.message ?? ''}`.trim(), context);
  }
}

/** The bound of a whole wait for response headers; 0 = none. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer?: NodeJS.Timeout;

  constructor(ms: number) {
    if (ms > 0) this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  get signal(): AbortSignal { return this.controller.signal; }
  get expired(): boolean { return this.controller.signal.aborted; }
  clear(): void { clearTimeout(this.timer); }
}

/** Every attempt ran out its own `responseTimeout` before the whole wait did: say so, with the count. */
function timedOutEach(err: CacheForgeError, attempts: number, call: UpstreamCall, remote: RemoteConfig): CacheForgeError {
  return cfError('CF_ERR_UPSTREAM_TIMEOUT',
    `no response from ${call.url.host} after ${attempts} attempt${attempts === 1 ? '' : 's'} of ${formatDuration(remote.client.responseTimeout)} each (${call.method} ${redact(call.url)})`,
    { remote: remote.name, op: 'upstream.request', cause: err, detail: { attempts } });
}

/** Bodies up to this size are read to their end when unwanted, so the connection can be reused. */
const DRAIN_MAX = 64 * 1024;

/**
 * Gets rid of a body nobody will read (an error status, a 304, a retried attempt, a HEAD): a small
 * one is drained so its keep-alive connection goes back to the pool, anything larger or of unknown
 * length is destroyed. Its errors are the client's own business (the body always has a listener).
 */
export function discardBody(response: UpstreamResponse): void {
  const length = Number(response.headers['content-length'] ?? NaN);
  if (Number.isFinite(length) && length <= DRAIN_MAX) response.body.resume();
  else response.body.destroy();
}

/** A Location resolved against the URL that sent it, or undefined when it is no URL. */
function resolveLocation(location: string, base: string): URL | undefined {
  try {
    // got reads Location as latin1 bytes of UTF-8, as browsers do.
    return new URL(Buffer.from(location, 'binary').toString(), base);
  } catch {
    return undefined;
  }
}

function retryable(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e.name === 'TimeoutError' || (e.code !== undefined && RETRYABLE_CODES.has(e.code));
}

function backoff(attempt: number): number {
  return Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
}
