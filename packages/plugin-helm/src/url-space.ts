import type { ArtifactRequest } from '@cacheforge/core';
import type { ChartHosts } from './hosts.js';

/**
 * A chart repository as this remote serves it, below `/<remote>/`:
 * - `index.yaml`: the repository's index;
 * - `<path>`: a file below the upstream's repository URL (`charts/redis-1.2.3.tgz`), where the
 *   index's relative URLs (and absolute ones under the repository URL) point;
 * - `-/<scheme>/<host>/<path>`: a file anywhere else on an allowed host (a GitHub release
 *   download, another path on the upstream's host).
 * Rewritten URLs are relative to the index, so one rewritten index serves every host name
 * clients reach this instance under.
 */
export type HelmRequest =
  | { readonly kind: 'index' }
  /** A chart archive or provenance file; `upstream` is its absolute URL, as the index would list it. */
  | { readonly kind: 'file'; readonly upstream: string; readonly provenance: boolean }
  | { readonly kind: 'refused'; readonly status: 404; readonly reason: string };

/** The first segment of files on other hosts: no chart repository names a folder so. */
export const ELSEWHERE = '-';

export class ChartLocations {
  constructor(private readonly upstream: URL, private readonly hosts: ChartHosts, private readonly remote: string) {}

  /** What a request asks for; undefined outside a chart repository's URL space. */
  describe(req: ArtifactRequest): HelmRequest | undefined {
    const { segments } = req;
    if (req.path === 'index.yaml') return { kind: 'index' };
    if (segments.length === 0 || segments.at(-1) === '') return undefined;
    const provenance = req.path.endsWith('.prov');
    if (segments[0] !== ELSEWHERE) return { kind: 'file', upstream: this.upstream.href + req.rawPath + req.search, provenance };
    const [, scheme, host] = segments;
    if (segments.length < 4 || (scheme !== 'http' && scheme !== 'https') || !host) return undefined;
    const rest = req.rawPath.split('/').slice(3).join('/');
    let url: URL;
    try { url = new URL(`${scheme}://${host}/${rest}${req.search}`); } catch { return undefined; }
    if (url.host !== host.toLowerCase()) return undefined;
    if (!this.hosts.allows(url)) {
      return { kind: 'refused', status: 404, reason: `${url.host} is not among the hosts remote ${this.remote} fetches charts from (remotes.${this.remote}.allowedHosts)` };
    }
    return { kind: 'file', upstream: url.href, provenance };
  }

  /**
   * Where the index should point a chart URL it lists (`value`, as written): a path relative to
   * the index, `'kept'` for a URL left as it is (already one of ours, or not a fetchable http(s)
   * URL), or the host that would need an `allowedHosts` entry.
   */
  rewrite(value: string): { readonly path: string } | 'kept' | { readonly blockedHost: string } {
    let url: URL;
    try { url = new URL(value, this.upstream); } catch { return 'kept'; }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'kept';
    // helm puts the repository URL's query on a relative URL: one of its own would be lost.
    if (url.search) return 'kept';
    url.hash = '';
    const href = url.href;
    if (href.startsWith(this.upstream.href)) {
      const below = href.slice(this.upstream.href.length);
      if (below !== '' && !below.startsWith(`${ELSEWHERE}/`)) return below === value ? 'kept' : { path: below };
    }
    if (!this.hosts.allows(url)) return { blockedHost: url.host };
    return { path: `${ELSEWHERE}/${url.protocol.slice(0, -1)}/${url.host}${url.pathname}` };
  }

  /** The absolute URL a listed chart URL stands for: how the index and the requests are matched. */
  resolve(value: string): string | undefined {
    try {
      const url = new URL(value, this.upstream);
      url.hash = '';
      return url.href;
    } catch {
      return undefined;
    }
  }
}
