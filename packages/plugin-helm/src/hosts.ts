/**
 * Which hosts a remote may fetch charts from: the upstream's own origin, or an `allowedHosts`
 * entry (an exact name or `*.suffix`, with `:port` for any port but the scheme's default), as the
 * core's origin policy reads them. The core enforces it on every request; the plugin asks it to
 * decide which chart URLs of an index it can route through the cache.
 */
export class ChartHosts {
  private readonly entries: readonly { host: string; wildcard: boolean; port?: number }[];

  constructor(private readonly upstream: URL, allowedHosts: readonly string[]) {
    this.entries = allowedHosts.map((entry) => {
      const raw = entry.trim().toLowerCase();
      const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
      const named = /^([^:]+):(\d+)$/.exec(raw);
      const [host, port] = bracketed ? [`[${bracketed[1]}]`, bracketed[2]] : named ? [named[1]!, named[2]] : [raw, undefined];
      return { host: host.startsWith('*.') ? host.slice(1) : host, wildcard: host.startsWith('*.'), port: port === undefined ? undefined : Number(port) };
    });
  }

  allows(url: URL): boolean {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (url.origin === this.upstream.origin) return true;
    const host = url.hostname.toLowerCase();
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return this.entries.some((e) => (e.wildcard ? host.endsWith(e.host) : host === e.host) && (e.port ?? (url.protocol === 'https:' ? 443 : 80)) === port);
  }
}
