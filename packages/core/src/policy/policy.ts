import { cfError } from '../errors/errors.js';
import type { RemoteConfig } from '../config/config.js';
import type { FormatClasses } from '../contract/index.js';

/** Default TTL of mutable documents when neither the config nor the format says: 10 minutes. */
export const DEFAULT_MUTABLE_TTL = 10 * 60_000;
/** Default TTL of remembered upstream 404s: 1 minute. */
export const DEFAULT_NEGATIVE_TTL = 60_000;

/** How a path is cached. */
export interface Classification {
  readonly class: 'immutable' | 'mutable';
  /** Milliseconds a mutable document is served without asking upstream (0 = ask every time). */
  readonly ttl: number;
}

/**
 * One remote's rules, asked before the upstream (allowed? which class?) and after it answers (too
 * large?). The remote's config takes precedence over its format's built-in classes.
 */
export class RemotePolicy {
  readonly negativeTtl: number;
  readonly maxSize: number;
  private readonly mutableTtl: number;
  private readonly formatImmutable: readonly RegExp[];
  private readonly formatMutable: readonly RegExp[];

  constructor(private readonly remote: RemoteConfig, private readonly classes: FormatClasses = {}) {
    this.mutableTtl = remote.ttl.mutable ?? classes.ttl?.mutable ?? DEFAULT_MUTABLE_TTL;
    this.negativeTtl = remote.ttl.negative ?? classes.ttl?.negative ?? DEFAULT_NEGATIVE_TTL;
    this.maxSize = remote.maxSize;
    this.formatImmutable = (classes.immutable ?? []).map((s) => new RegExp(s));
    this.formatMutable = (classes.mutable ?? []).map((s) => new RegExp(s));
  }

  /** @throws CF_ERR_POLICY_DENIED when the remote's include/exclude rules refuse `path`. */
  checkAllowed(path: string): void {
    const { include, exclude, name } = this.remote;
    if (include && include.length > 0 && !include.some((r) => r.test(path))) {
      throw cfError('CF_ERR_POLICY_DENIED', `${path} is not in remote ${name}'s include list`, { remote: name, path, op: 'policy.include' });
    }
    if (exclude?.some((r) => r.test(path))) {
      throw cfError('CF_ERR_POLICY_DENIED', `${path} matches remote ${name}'s exclude list`, { remote: name, path, op: 'policy.exclude' });
    }
  }

  /**
   * The class of `path`: the remote's `mutable` then `immutable` patterns, then what the format
   * said of this request, then the format's patterns, then its fallback (mutable by default).
   */
  classify(path: string, formatSays?: 'immutable' | 'mutable', ttlOverride?: number): Classification {
    const mutable = (): Classification => ({ class: 'mutable', ttl: ttlOverride ?? this.mutableTtl });
    const immutable: Classification = { class: 'immutable', ttl: Infinity };
    if (this.remote.mutable?.some((r) => r.test(path))) return mutable();
    if (this.remote.immutable?.some((r) => r.test(path))) return immutable;
    if (formatSays) return formatSays === 'mutable' ? mutable() : immutable;
    if (this.formatMutable.some((r) => r.test(path))) return mutable();
    if (this.formatImmutable.some((r) => r.test(path))) return immutable;
    return this.classes.fallback === 'immutable' ? immutable : mutable();
  }

  /** @throws CF_ERR_POLICY_TOO_LARGE when `size` bytes exceed the remote's limit. */
  checkSize(size: number, path: string): void {
    if (this.maxSize > 0 && size > this.maxSize) {
      throw cfError('CF_ERR_POLICY_TOO_LARGE', `${path} is ${size} bytes, over remote ${this.remote.name}'s limit of ${this.maxSize}`,
        { remote: this.remote.name, path, op: 'policy.maxSize' });
    }
  }
}
