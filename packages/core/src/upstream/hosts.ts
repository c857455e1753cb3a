import type { SelfIdentity } from '../net/self.js';
import { effectivePort, isLinkLocal, isLoopback, isUnspecified, normalizeHost, sameOrigin } from '../net/addresses.js';
import { entryMatches, parseAllowed, type AllowedEntry } from '../net/host-patterns.js';

/**
 * Where one remote's upstream client may connect (a request a plugin makes, a redirect it is sent,
 * a token realm a challenge names): the upstream's own origin, an `allowedHosts` entry with its
 * port, or a host its plugin learned from the upstream's documents. Never this proxy's own listen
 * address; never loopback when the upstream is not loopback; a link-local (metadata) address only
 * when an exact configured entry names it.
 */
export class OriginPolicy {
  private readonly entries: readonly AllowedEntry[];
  /** Exact hosts the remote's plugin learned (see `RemoteLearnedHosts`); in memory only. */
  private readonly learned: AllowedEntry[] = [];

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
    const entry = this.configured(target);
    if (isLinkLocal(host) && !(entry && !entry.wildcard)) return `${where} is a link-local (metadata) address; only an exact allowedHosts entry allows it`;
    if (isLoopback(host) && !isLoopback(this.upstream.hostname)) return `${where} is loopback and the upstream is not`;
    if (!entry && !this.learned.some((e) => entryMatches(e, host, port, target.protocol))) {
      return `${where} is neither the upstream's origin nor in allowedHosts (an entry without a port means port ${target.protocol === 'https:' ? 443 : 80})`;
    }
    return undefined;
  }

  /**
   * Whether the remote's configured `headers` go with a request to `target`: to the upstream's
   * origin and configured entries, not to hosts learned from a document the upstream sent.
   */
  credentialed(target: URL): boolean {
    return sameOrigin(target, this.upstream) || this.configured(target) !== undefined;
  }

  /**
   * Why `entry` (exact, as `RemoteLearnedHosts` parsed it) may not be learned, or undefined when it may.
   * `targets` are the origins it would admit, for the checks that depend on the port.
   */
  unlearnable(entry: AllowedEntry, targets: readonly URL[]): string | undefined {
    if (isLinkLocal(entry.host)) return `${entry.host} is a link-local (metadata) address; only an exact allowedHosts entry allows it`;
    if ((isLoopback(entry.host) || isUnspecified(entry.host)) && !isLoopback(this.upstream.hostname)) return `${entry.host} is loopback and the upstream is not`;
    const self = targets.find((t) => this.self?.isSelf(entry.host, effectivePort(t)));
    if (self) return `${self.protocol}//${self.host} is this proxy's own listen address`;
    return undefined;
  }

  /** Adds a learned entry (checked with `unlearnable` first); false when it was known already. */
  learn(entry: AllowedEntry): boolean {
    if (this.learned.some((e) => e.host === entry.host && e.port === entry.port)) return false;
    this.learned.push(entry);
    return true;
  }

  /** How many hosts the remote has learned. */
  get learnedCount(): number {
    return this.learned.length;
  }

  private configured(target: URL): AllowedEntry | undefined {
    return this.entries.find((e) => entryMatches(e, target.hostname, effectivePort(target), target.protocol));
  }
}
