import { cfError, type LearnedHosts } from '@cacheforge/core';

/** What a remote's config lets its `config.json` send it to, besides its upstream's own host. */
export interface HostRules {
  readonly upstream: URL;
  /** The remote's `allowedHosts` (`host[:port]` or `*.example.com`). */
  readonly allowedHosts: readonly string[];
  /** The host (or URL) an option names for this purpose (`downloads`, `api`). */
  readonly named?: string;
  /** The option's key, for the message when a host is not admitted. */
  readonly option: string;
}

/**
 * Admits the host of a URL the registry's `config.json` names (its `dl` or `api`) for this
 * remote's client, through the core's learned hosts: only when it is the upstream's own host, an
 * `allowedHosts` entry, or the host the remote's option names. Any other host is refused with
 * the key to set, so a changed or hostile `config.json` cannot send the remote anywhere.
 */
export function admitHost(url: URL, rules: HostRules, learned: LearnedHosts | undefined, remote: string): void {
  if (sameHost(url, rules.upstream)) return;
  const permitted = rules.allowedHosts.some((entry) => matches(url, entry)) || (rules.named !== undefined && matches(url, hostOf(rules.named)));
  if (!permitted) {
    throw cfError('CF_ERR_POLICY_DENIED',
      `the registry's config.json sends ${rules.option} to ${url.host}, which is not the upstream's host; add ${rules.option}: ${url.host} (or an allowedHosts entry) to remote ${remote} if it is the registry's own`,
      { remote, path: 'config.json' });
  }
  const answer = learned?.allow(url);
  if (answer && !answer.allowed) {
    throw cfError('CF_ERR_POLICY_DENIED', `remote ${remote} may not fetch from ${url.host}: ${answer.reason}`, { remote, path: 'config.json' });
  }
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function sameHost(a: URL, b: URL): boolean {
  return a.hostname === b.hostname && effectivePort(a) === effectivePort(b);
}

/** `https://static.crates.io/crates` or `static.crates.io`: the `host[:port]` part. */
function hostOf(value: string): string {
  if (!value.includes('://')) return value;
  try { return new URL(value).host; } catch { return value; }
}

/** An `allowedHosts`-style entry: an exact `host[:port]` (the scheme's default port when none), or `*.suffix`. */
function matches(url: URL, entry: string): boolean {
  const m = /^(\*\.)?([^:]+|\[[^\]]+\])(?::(\d+))?$/.exec(entry.trim().toLowerCase());
  if (!m) return false;
  const [, wildcard, host, port] = m;
  if ((port ?? (url.protocol === 'https:' ? '443' : '80')) !== effectivePort(url)) return false;
  return wildcard ? url.hostname.endsWith(`.${host}`) : url.hostname === host;
}
