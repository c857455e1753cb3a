import type { UpstreamObserver } from './upstream-observer.js';
import type { Clock } from '../util/clock.js';

/** What a remote's upstream did lately, as the API shows it. */
export interface UpstreamActivityView {
  readonly lastSuccess: string | null;
  readonly lastFailure: string | null;
  readonly lastFailureReason: string | null;
  readonly requests: number;
  readonly failures: number;
  /** Failures over requests since start; null before the first. */
  readonly errorRate: number | null;
}

/**
 * Per remote: the last upstream success and failure (and why), and counts since start, fed by
 * the upstream clients' observer. Kept in memory: it describes this replica's view of the upstream.
 */
export class UpstreamActivity {
  private readonly byRemote = new Map<string, { lastSuccess?: number; lastFailure?: number; reason?: string; requests: number; failures: number }>();

  constructor(private readonly clock: Clock) {}

  /** Wraps an observer so every outcome is also counted here. */
  observe(inner: UpstreamObserver): UpstreamObserver {
    return {
      ...inner,
      onResponse: (remote, status, seconds) => {
        inner.onResponse(remote, status, seconds);
        const a = this.entry(remote);
        a.requests += 1;
        // A 5xx is the upstream failing; a 404 is an answer.
        if (status >= 500) { a.failures += 1; a.lastFailure = this.clock.now(); a.reason = `HTTP ${status}`; } else a.lastSuccess = this.clock.now();
      },
      onError: (remote, reason) => {
        inner.onError(remote, reason);
        const a = this.entry(remote);
        a.requests += 1;
        a.failures += 1;
        a.lastFailure = this.clock.now();
        a.reason = reason;
      },
    };
  }

  view(remote: string): UpstreamActivityView {
    const a = this.byRemote.get(remote);
    const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      lastSuccess: iso(a?.lastSuccess), lastFailure: iso(a?.lastFailure), lastFailureReason: a?.reason ?? null,
      requests: a?.requests ?? 0, failures: a?.failures ?? 0, errorRate: a && a.requests > 0 ? a.failures / a.requests : null,
    };
  }

  private entry(remote: string) {
    let a = this.byRemote.get(remote);
    if (!a) this.byRemote.set(remote, a = { requests: 0, failures: 0 });
    return a;
  }
}
