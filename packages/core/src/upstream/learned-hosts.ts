import type { HostAllowance, LearnedHosts } from '../contract/learned-hosts.js';
import { effectivePort, normalizeHost } from '../net/addresses.js';
import { parseAllowed, validAllowedEntry, type AllowedEntry } from '../net/host-patterns.js';
import { redactText } from '../util/redact.js';
import type { OriginPolicy } from './hosts.js';

/**
 * How many hosts one remote may learn. A format's documents name one or two download hosts; the
 * bound keeps an upstream that names ever new ones from growing the list without end.
 */
export const MAX_LEARNED_HOSTS = 32;

/** A host a plugin asked for, read: the entry it adds, the origins it admits, how logs name it. */
interface Candidate {
  readonly entry: AllowedEntry;
  readonly targets: readonly URL[];
  readonly label: string;
}

/**
 * One remote's {@link LearnedHosts}: what its plugin learned from the upstream's documents, added
 * to the remote's own `OriginPolicy` (so no other remote's client accepts it), at most
 * {@link MAX_LEARNED_HOSTS}, reported once per host through `onLearned`.
 */
export class RemoteLearnedHosts implements LearnedHosts {
  constructor(private readonly policy: OriginPolicy, private readonly remote: string, private readonly onLearned?: (host: string) => void) {}

  allow(urlOrHost: string | URL): HostAllowance {
    const candidate = readCandidate(urlOrHost);
    if (typeof candidate === 'string') return refused(candidate);
    if (candidate.targets.every((target) => this.policy.refusal(target) === undefined)) return { allowed: true };
    const why = this.policy.unlearnable(candidate.entry, candidate.targets);
    if (why) return refused(why);
    if (this.policy.learnedCount >= MAX_LEARNED_HOSTS) {
      return refused(`remote ${this.remote} has learned ${MAX_LEARNED_HOSTS} hosts already, the most one remote may; add ${candidate.label} to its allowedHosts`);
    }
    if (this.policy.learn(candidate.entry)) this.onLearned?.(candidate.label);
    return { allowed: true };
  }
}

/**
 * A URL (its host and effective port) or a `host[:port]` (the scheme's default port when none is
 * given), or why it is neither.
 */
function readCandidate(input: string | URL): Candidate | string {
  // The contract says string or URL; a document's JSON may hand over anything.
  if (typeof input !== 'string' && !(input instanceof URL)) return `${typeof input} is neither a URL nor a host name`;
  const text = typeof input === 'string' ? input.trim() : input.href;
  if (typeof input !== 'string' || text.includes('://')) {
    let url: URL;
    try {
      url = typeof input === 'string' ? new URL(text) : input;
    } catch {
      return `${redactText(JSON.stringify(text))} is not a URL`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not http or https`;
    const origin = new URL(`${url.protocol}//${url.host}/`);
    return { entry: { host: normalizeHost(url.hostname), wildcard: false, port: effectivePort(url) }, targets: [origin], label: origin.origin };
  }
  if (!validAllowedEntry(text)) return `${JSON.stringify(text)} is neither a URL nor a host name`;
  const parsed = parseAllowed(text);
  if (parsed.wildcard) return `${text} is a pattern; only an exact host can be learned`;
  const entry = { ...parsed, host: normalizeHost(parsed.host) };
  const name = entry.host.includes(':') ? `[${entry.host}]` : entry.host;
  const targets = (['http:', 'https:'] as const).map((scheme) => new URL(`${scheme}//${name}${entry.port ? `:${entry.port}` : ''}/`));
  return { entry, targets, label: `${name}${entry.port ? `:${entry.port}` : ''}` };
}

function refused(reason: string): HostAllowance {
  return { allowed: false, reason };
}
