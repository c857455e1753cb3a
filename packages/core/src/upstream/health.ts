import { cfError, type CacheForgeError } from '../errors/errors.js';

/** The first pause after an upstream is marked down; it doubles with each failed probe. */
export const FIRST_BACKOFF_MS = 1000;
/** The longest pause between two probes of a down upstream. */
export const MAX_BACKOFF_MS = 60_000;

/** What `/-/ready` and the metrics show of one upstream host. */
export interface UpstreamState {
  readonly remote: string;
  readonly host: string;
  readonly up: boolean;
  /** When it was marked down (ISO time). */
  readonly downSince?: string;
  /** Failed requests in a row. */
  readonly failures: number;
  /** Milliseconds until the next probe may go out. */
  readonly nextProbeInMs?: number;
}

/** A request's permission to go upstream; `probe` when it is the one request testing a down host. */
export interface Admission { readonly probe: boolean }

/**
 * Whether one upstream host is reachable, from the outcome of the requests sent to it. After
 * `downAfter` requests in a row fail to connect or time out, the host is down: requests are
 * refused at once (the pipeline then serves its stale copy, or a clear 502) instead of each paying
 * the connect timeout and its retries. After a pause that doubles with each failure (1 s up to
 * 60 s), one request at a time is let through as a probe; its success marks the host up again.
 * An HTTP answer of any status is a success: the host is there, whatever it says.
 */
export class UpstreamHealth {
  private failures = 0;
  private downSince?: number;
  private backoff = 0;
  private nextProbeAt = 0;
  private probing = false;

  constructor(
    private readonly remote: string,
    readonly host: string,
    /** Failed requests in a row that mark the host down; 0 = never. */
    private readonly downAfter: number,
    private readonly onChange: (up: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get up(): boolean {
    return this.downSince === undefined;
  }

  /**
   * Lets a request go, or refuses it while the host is down and another request probes it.
   * @throws CF_ERR_UPSTREAM_DOWN
   */
  admit(): Admission {
    if (this.up) return { probe: false };
    if (!this.probing && this.now() >= this.nextProbeAt) {
      this.probing = true;
      return { probe: true };
    }
    throw this.downError();
  }

  succeeded(admission: Admission): void {
    if (admission.probe) this.probing = false;
    this.failures = 0;
    if (!this.up) {
      this.downSince = undefined;
      this.backoff = 0;
      this.onChange(true);
    }
  }

  /** A connection failure or timeout. */
  failed(admission: Admission): void {
    if (admission.probe) this.probing = false;
    this.failures += 1;
    if (this.downAfter <= 0 || this.failures < this.downAfter) return;
    const wasUp = this.up;
    this.downSince ??= this.now();
    this.backoff = wasUp ? FIRST_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    this.nextProbeAt = this.now() + this.backoff;
    if (wasUp) this.onChange(false);
  }

  /** The request ended without telling anything about the host (the client went away). */
  released(admission: Admission): void {
    if (admission.probe) this.probing = false;
  }

  state(): UpstreamState {
    const base = { remote: this.remote, host: this.host, up: this.up, failures: this.failures };
    if (this.up) return base;
    return { ...base, downSince: new Date(this.downSince!).toISOString(), nextProbeInMs: Math.max(0, this.nextProbeAt - this.now()) };
  }

  private downError(): CacheForgeError {
    const wait = Math.max(0, this.nextProbeAt - this.now());
    const next = this.probing ? 'a probe is under way' : `next attempt in ${Math.ceil(wait / 1000)}s`;
    return cfError('CF_ERR_UPSTREAM_DOWN',
      `upstream ${this.host} of remote ${this.remote} is down (${this.failures} failed requests in a row since ${new Date(this.downSince!).toISOString()}); only stored copies are served, ${next}`,
      { remote: this.remote, op: 'upstream.request', headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) } });
  }
}
