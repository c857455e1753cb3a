import { isIP } from 'node:net';

/**
 * What an address is, as the origin checks need to know it: normalized, its port, whether two URLs
 * share an origin, and whether a host is loopback, unspecified or link-local (literal addresses and
 * `localhost`; names are not resolved).
 */

/** A host name without IPv6 brackets, lowercased: the form the checks compare. */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** The port a URL connects to: its own, or its scheme's default. */
export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Scheme, host and port: what a redirect must keep to be "the same origin". */
export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && normalizeHost(a.hostname) === normalizeHost(b.hostname) && effectivePort(a) === effectivePort(b);
}

/** 127.0.0.0/8, ::1, `localhost` and its subdomains (which resolve to loopback by RFC 6761). */
export function isLoopback(host: string): boolean {
  const h = normalizeHost(host);
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  const v4 = ipv4Of(h);
  return v4 !== undefined && v4[0] === 127;
}

/** 0.0.0.0 and ::: connecting to them reaches the local host. */
export function isUnspecified(host: string): boolean {
  const h = normalizeHost(host);
  return h === '0.0.0.0' || h === '::' || h === '0' || h === '';
}

/** 169.254.0.0/16 (the cloud metadata service lives at 169.254.169.254) and fe80::/10. */
export function isLinkLocal(host: string): boolean {
  const h = normalizeHost(host);
  const v4 = ipv4Of(h);
  if (v4) return v4[0] === 169 && v4[1] === 254;
  return isIP(h) === 6 && /^fe[89ab][0-9a-f]?:/.test(h);
}

/** The octets of an IPv4 literal, also in its IPv4-mapped IPv6 form (`::ffff:169.254.1.1`). */
function ipv4Of(host: string): number[] | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  const candidate = mapped ? mapped[1]! : host;
  if (isIP(candidate) === 4) return candidate.split('.').map(Number);
  // `::ffff:a9fe:a9fe` is how Node's URL writes a mapped address.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (hex) {
    const hi = parseInt(hex[1]!, 16); const lo = parseInt(hex[2]!, 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255];
  }
  return undefined;
}
