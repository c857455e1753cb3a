import type { SelfIdentity } from '../net/self.js';
import { effectivePort, isLinkLocal, isLoopback, normalizeHost, sameOrigin } from '../net/addresses.js';
import { entryMatches, parseAllowed, type AllowedEntry } from '../net/host-patterns.js';

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
    const entry = this.entries.find((e) => entryMatches(e, host, port, target.protocol));
    if (isLinkLocal(host) && !(entry && !entry.wildcard)) return `${where} is a link-local (metadata) address; only an exact allowedHosts entry allows it`;
    if (isLoopback(host) && !isLoopback(this.upstream.hostname)) return `${where} is loopback and the upstream is not`;
    if (!entry) return `${where} is neither the upstream's origin nor in allowedHosts (an entry without a port means port ${target.protocol === 'https:' ? 443 : 80})`;
    return undefined;
  }
}
