import { normalizeHost } from './addresses.js';

/**
 * `allowedHosts` entries: what one may be, and which URLs it matches. The config check and the
 * origin policy read entries the same way through this one parser.
 */

/** One `allowedHosts` entry: an exact name or `*.suffix`, with a port or the scheme's default. */
export interface AllowedEntry {
  /** The name, or for a wildcard the suffix with its leading dot (`.cloudfront.net`). */
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

/** True when `entry` matches `host` (normalized) on `port` for a URL of `protocol`. */
export function entryMatches(entry: AllowedEntry, host: string, port: number, protocol: string): boolean {
  const name = normalizeHost(host);
  return (entry.wildcard ? name.endsWith(entry.host) : name === entry.host) && (entry.port ?? (protocol === 'https:' ? 443 : 80)) === port;
}
