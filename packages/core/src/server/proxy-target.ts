import { hostname } from 'node:os';
import { cfError } from '../errors/errors.js';
import type { MountedRemote } from '../plugin/remote-registry.js';
import { effectivePort, normalizeHost, sameOrigin } from '../net/addresses.js';
import type { SelfIdentity } from '../net/self.js';

/**
 * Where a request goes by its target: `path` for the usual `/<remote>/…` routing (an origin-form
 * target, or an absolute-form one naming this instance), or `remote` for an absolute-form target
 * under that remote's upstream, with the rest of the path and the base the client reached it at.
 */
export type ProxyRoute =
  | { readonly kind: 'path' }
  | { readonly kind: 'remote'; readonly remote: string; readonly rawPath: string; readonly base: URL };

/** What tells this instance's own origin apart from an upstream's. */
export interface SelfOrigins {
  /** `server.publicUrl`: the origin clients are told to use. */
  readonly publicUrl?: URL;
  /** The addresses the server listens on. */
  readonly identity?: SelfIdentity;
}

interface Upstream {
  readonly remote: string;
  readonly url: URL;
  /** The upstream's path, ending in `/`: the target paths it serves start with it. */
  readonly prefix: string;
}

const PATH_ROUTE: ProxyRoute = { kind: 'path' };

/**
 * Routes absolute-form requests (`GET http://host/path`, what a client configured with this
 * instance as its HTTP proxy sends, RFC 9112 §3.2.2) by their target, never by the Host header:
 * a target on this instance routes by path; a target under a remote's upstream goes to that
 * remote, the longest upstream path winning (config order between equals); anything else is
 * refused, naming the remote to add. An `http` target also matches an `https` upstream of the
 * same host on the default ports: a proxy client speaks http to the mirror, and the remote may
 * fetch it over TLS.
 */
export function proxyRouter(remotes: readonly MountedRemote[], self: SelfOrigins): (target: string, localPort: number) => ProxyRoute {
  // Stable sort: remotes with equally long paths stay in config order.
  const upstreams: Upstream[] = remotes
    .map((r) => ({ remote: r.config.name, url: r.definition.upstream, prefix: withSlash(r.definition.upstream.pathname) }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const ownName = normalizeHost(hostname());

  function isSelf(url: URL, localPort: number): boolean {
    if (self.publicUrl && sameOrigin(url, self.publicUrl)) return true;
    const port = effectivePort(url);
    if (self.identity?.isSelf(url.hostname, port)) return true;
    // The machine's own name on the port the request came in on: `http_proxy` and a client URL
    // both naming `http://<this host>:8080`.
    const name = normalizeHost(url.hostname);
    return port === localPort && (name === ownName || name === ownName.split('.')[0]);
  }

  return function route(target: string, localPort: number): ProxyRoute {
    if (target.startsWith('/') || target === '*') return PATH_ROUTE;
    const { url, path } = parseTarget(target);
    if (isSelf(url, localPort)) return PATH_ROUTE;
    const exact = upstreams.find((u) => sameOrigin(url, u.url) && under(path, u.prefix));
    const found = exact ?? upstreams.find((u) => upgrades(url, u.url) && under(path, u.prefix));
    if (found) {
      return { kind: 'remote', remote: found.remote, rawPath: path.slice(found.prefix.length), base: new URL(found.prefix, url.origin) };
    }
    throw notConfigured(url, path, upstreams);
  };
}

/**
 * The origin (userinfo dropped: it is never echoed) and the raw path of an absolute-form target.
 * The path is kept as sent, so `..` and `%2e` reach the path checks instead of being resolved away.
 */
function parseTarget(target: string): { url: URL; path: string } {
  const m = /^(https?):\/\/([^/?#]*)([^?#]*)/i.exec(target);
  let url: URL | undefined;
  try {
    url = m ? new URL(`${m[1]!.toLowerCase()}://${m[2]}/`) : undefined;
  } catch {
    url = undefined;
  }
  if (!m || !url || url.hostname === '') {
    throw cfError('CF_ERR_REQUEST_BAD_PATH', 'the request target must be a path (/<remote>/…) or an absolute http:// or https:// URL', { op: 'proxy' });
  }
  return { url: new URL(url.origin), path: m[3] || '/' };
}

function under(path: string, prefix: string): boolean {
  return path.startsWith(prefix) || `${path}/` === prefix;
}

/** An http target on port 80 for an https upstream on 443, same host. */
function upgrades(target: URL, upstream: URL): boolean {
  return target.protocol === 'http:' && upstream.protocol === 'https:' && target.port === '' && upstream.port === ''
    && normalizeHost(target.hostname) === normalizeHost(upstream.hostname);
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

function notConfigured(url: URL, path: string, upstreams: readonly Upstream[]): Error {
  const first = /^\/[^/]+\//.exec(path)?.[0] ?? '/';
  const suggestion = new URL(first, url.origin).href;
  const sameHost = upstreams.filter((u) => sameOrigin(url, u.url) || upgrades(url, u.url));
  const served = sameHost.length === 0 ? ''
    : ` (${url.host} is the upstream of ${sameHost.map((u) => `remote ${JSON.stringify(u.remote)} for paths under ${u.prefix}`).join(', ')})`;
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return cfError('CF_ERR_PROXY_TARGET_NOT_CONFIGURED',
    `${url.origin}${shown} is not under the upstream of any remote${served}; as a proxy, Cache Forge serves only its remotes' upstreams. `
    + `To serve it, add a remote with upstream: ${suggestion} (e.g. remotes: { <name>: { type: generic, upstream: "${suggestion}" } })`,
    { op: 'proxy', detail: { target: `${url.origin}${shown}`, upstream: suggestion } });
}
