import { isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import type { UpstreamRemote } from './settings.js';
import type { UpstreamAuth } from '../contract/upstream-auth.js';
import type { UpstreamObserver } from '../metrics/upstream-observer.js';
import { createAgents, type Agents } from './agents.js';
import { AuthRoundTrip } from './auth.js';
import { UpstreamHealth, type Admission, type UpstreamState } from './health.js';
import { OriginPolicy } from './hosts.js';
import { RemoteLearnedHosts } from './learned-hosts.js';
import { hostRefused, remoteOffline } from './outcome.js';
import type { UpstreamCall, UpstreamResponse } from './response.js';
import { Retrying } from './retry.js';
import type { SelfIdentity } from '../net/self.js';
import { Transport } from './transport.js';

export { discardBody, type UpstreamCall, type UpstreamResponse } from './response.js';

/**
 * The HTTP client of one remote (got): keep-alive, proxy from the environment, timeouts, retries
 * before the first byte for idempotent failures, and requests and redirects only to the origins
 * the remote's `OriginPolicy` allows. The remote's configured `headers` go to the upstream's own
 * origin and the URLs its plugin asks for, and no credential (configured header,
 * `authorization`, `cookie`, URL userinfo) follows a redirect to another origin. Every request
 * carries this instance's `Via`. Put together here from one module per job: `transport.ts` (one
 * attempt), `retry.ts` (attempts within the deadline), `auth.ts` (the token round trip),
 * `health.ts` (hosts marked down), `outcome.ts` (every failure as a coded error).
 */
export class UpstreamClient {
  private readonly agents: Agents;
  private readonly policy: OriginPolicy;
  private readonly retrying: Retrying;
  private auth?: AuthRoundTrip;
  /** The hosts the remote's plugin learned from its upstream's documents (`PluginContext.learnedHosts`). */
  readonly hosts: RemoteLearnedHosts;
  /** Per host this remote contacts (its upstream, a file host, a CDN it is allowed). */
  private readonly health = new Map<string, UpstreamHealth>();

  constructor(private readonly remote: UpstreamRemote, private readonly observer?: UpstreamObserver, env: NodeJS.ProcessEnv = process.env,
    self?: SelfIdentity) {
    this.agents = createAgents(remote.upstream, remote.client.maxSockets, env);
    this.policy = new OriginPolicy(remote.upstream, remote.allowedHosts, self);
    this.hosts = new RemoteLearnedHosts(this.policy, remote.name, (host) => observer?.onLearnedHost?.(remote.name, host));
    const transport = new Transport(remote, this.agents, this.policy, self);
    this.retrying = new Retrying(transport, { remote, policy: this.policy, observer, isUp: (host) => this.healthOf(host).up });
  }

  /**
   * Sends `call` and resolves when the response headers arrive. Connection failures and 500/502/503/504
   * are retried (`client.retries` times, with backoff) while no byte has reached a caller.
   * @throws CF_ERR_UPSTREAM_UNAVAILABLE, CF_ERR_UPSTREAM_TIMEOUT, CF_ERR_UPSTREAM_REDIRECT.
   */
  async request(call: UpstreamCall): Promise<UpstreamResponse> {
    this.checkHost(call.url);
    const { health, admission } = this.admit(call);
    try {
      const response = await (this.auth ? this.auth.send(call, admission.probe) : this.retrying.send(call, admission.probe));
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

  /** Makes every later request go through `auth` (set once, when the remote's handler is made). */
  useAuth(auth: UpstreamAuth): void {
    this.auth = new AuthRoundTrip(auth, (call, once) => this.retrying.send(call, once), (url) => this.checkHost(url), this.remote.name);
  }

  /** Frees the keep-alive sockets. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Lets the request go to its host, unless the remote is offline or the host is marked down. */
  private admit(call: UpstreamCall): { health: UpstreamHealth; admission: Admission } {
    try {
      if (this.remote.offline) throw remoteOffline(call, this.remote.name);
      const health = this.healthOf(call.url.host);
      return { health, admission: health.admit() };
    } catch (err) {
      // Counted as the upstream errors they stand for: a dashboard sees the requests turned away.
      this.observer?.onError(this.remote.name, (err as CacheForgeError).code);
      throw err;
    }
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

  private checkHost(url: URL): void {
    const refusal = this.policy.refusal(url);
    if (refusal) throw hostRefused(url, this.remote.name, refusal);
  }
}
