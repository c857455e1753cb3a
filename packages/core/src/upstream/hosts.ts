import type { SelfIdentity } from './self.js';
import { effectivePort, isLinkLocal, isLoopback, normalizeHost, sameOrigin } from './addresses.js';

/** One `allowedHosts` entry: an exact name or `*.suffix`, with a port or the scheme's default. */
export interface AllowedEntry {
  readonly host: string;
  readonly wildcard: boolean;
  /** Undefined: the target scheme's default port (80 for http, 443 for https). */
  readonly port?: number;
}

/** Parses `cdn.example.com`, `cdn.example.com:8443`, `*.cloudfront.net`, `[::1]:8080`, `::1`. */
export function parseAllowed(entry: string): AllowedEntry {
  const raw = entry.trim().toLowerCase();
  let host = raw;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
  const named = /^([^:]+):(\d+)$/.exec(raw);
  if (bracketed) { host = bracketed[1]!; port = bracketed[2] ? Number(bracketed[2]) : undefined; }
  else if (named) { host = named[1]!; port = Number(named[2]); }
  const wildcard = host.startsWith('*.');
  return { host: wildcard ? host.slice(1) : host, wildcard, port };
}

/** True when `entry` has the form `parseAllowed` understands (for the config check). */
export function validAllowedEntry(entry: string): boolean {
  const parsed = parseAllowed(entry);
  if (parsed.port !== undefined && (parsed.port < 1 || parsed.port > 65535)) return false;
  return parsed.host.length > 0 && !/[/\s@?#]/.test(parsed.host);
}

/**
 * Where one remote's upstream client may connect (a request a plugin makes, a redirect it is sent,
 * a token realm a challenge names): the upstream's own origin, or an `allowedHosts` entry with its
 * port. Never this proxy's own listen address; never loopback when the upstream is not loopback;
 * a link-local (metadata) address only when an exact entry names it.
 */
export class OriginPolicy {
  private readonly entries: readonly AllowedEntry[];

  constructor(private readonly upstream: URL, allowedHosts: readonly string[], private readonly self?: SelfIdentity) {
    this.entries = allowedHosts.map(parseAllowed);
  }

  /** Why `target` may not be contacted, or undefined when it may. */
  refusal(target: URL): string | undefined {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return `${target.protocol} is not http or https`;
    const host = normalizeHost(target.hostname);
    const port = effectivePort(target);
    const where = `${target.protocol}//${target.host}`;
    if (this.self?.isSelf(host, port)) return `${where} is this proxy's own listen address`;
    if (sameOrigin(target, this.upstream)) return undefined;
    const entry = this.entries.find((e) => (e.wildcard ? host.endsWith(e.host) : host === e.host)
      && (e.port ?? (target.protocol === 'https:' ? 443 : 80)) === port);
    if (isLinkLocal(host) && !(entry && !entry.wildcard)) return `${where} is a link-local (metadata) address; only an exact allowedHosts entry allows it`;
    if (isLoopback(host) && !isLoopback(this.upstream.hostname)) return `${where} is loopback and the upstream is not`;
    if (!entry) return `${where} is neither the upstream's origin nor in allowedHosts (an entry without a port means port ${target.protocol === 'https:' ? 443 : 80})`;
    return undefined;
  }
}
