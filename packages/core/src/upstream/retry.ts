import { setTimeout as sleep } from 'node:timers/promises';
import type { UpstreamRemote } from './settings.js';
import type { UpstreamObserver } from '../metrics/upstream-observer.js';
import { redact } from '../util/redact.js';
import type { OriginPolicy } from './hosts.js';
import { eachAttemptTimedOut, firstByteTimedOut, redirectRefused, transportError } from './outcome.js';
import { discardBody, resolveLocation, type UpstreamCall, type UpstreamResponse } from './response.js';
import type { Transport } from './transport.js';

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT']);

/** What one logical request needs besides the transport: the remote, its policy, its health. */
export interface RetryContext {
  readonly remote: UpstreamRemote;
  readonly policy: OriginPolicy;
  readonly observer?: UpstreamObserver;
  /** False once the host is marked down: retrying would only add to the wait. */
  isUp(host: string): boolean;
}

/**
 * One logical request: retried before the first byte on connection errors and 5xx, all of it
 * within `firstByteTimeout` (each attempt also within `responseTimeout`); a redirect that was not
 * followed is refused with the policy's reason.
 */
export class Retrying {
  constructor(private readonly transport: Transport, private readonly context: RetryContext) {}

  /** `once` makes it a single attempt (the probe of a down host: its failure only grows the pause). */
  async send(call: UpstreamCall, once = false): Promise<UpstreamResponse> {
    // A request body is sent once: it is a stream the client is still sending, not ours to replay.
    const attempts = call.body || once ? 1 : this.context.remote.client.retries + 1;
    const deadline = new Deadline(this.context.remote.client.firstByteTimeout);
    const signal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await this.attempt({ ...call, signal }, attempt, attempts);
          if (response) return response;
        } catch (err) {
          await this.recover(err, call, signal, deadline, attempt, attempts);
        }
      }
    } finally {
      // The body streams on after the headers: only the wait for them is bounded.
      deadline.clear();
    }
  }

  /** One attempt: its response, or undefined when a retryable status is to be tried again. */
  private async attempt(call: UpstreamCall & { signal: AbortSignal }, attempt: number, attempts: number): Promise<UpstreamResponse | undefined> {
    const started = process.hrtime.bigint();
    const response = await this.transport.send(call);
    this.context.observer?.onResponse(this.context.remote.name, response.status, Number(process.hrtime.bigint() - started) / 1e9);
    if (RETRYABLE_STATUS.has(response.status) && attempt < attempts) {
      discardBody(response);
      await sleep(backoff(attempt), undefined, { signal: call.signal });
      return undefined;
    }
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      discardBody(response);
      throw this.refusedRedirect(response, call);
    }
    return response;
  }

  /** After a failed attempt: throws the coded error when it is the last one, else waits out the backoff. */
  private async recover(err: unknown, call: UpstreamCall, signal: AbortSignal, deadline: Deadline, attempt: number, attempts: number): Promise<void> {
    const { remote, observer } = this.context;
    const timedOut = () => firstByteTimedOut(call, remote.name, remote.client.firstByteTimeout, attempt);
    const coded = deadline.expired && !call.signal?.aborted ? timedOut() : transportError(err, call, remote.name);
    if (coded.code === 'CF_ERR_UPSTREAM_REDIRECT' || signal.aborted || attempt >= attempts || !retryable(err) || !this.context.isUp(call.url.host)) {
      observer?.onError(remote.name, coded.code);
      throw (err as { event?: string }).event === 'response' && !deadline.expired
        ? eachAttemptTimedOut(coded, call, remote.name, remote.client.responseTimeout, attempt) : coded;
    }
    await sleep(backoff(attempt), undefined, { signal }).catch(() => undefined);
    if (deadline.expired) {
      observer?.onError(remote.name, 'CF_ERR_UPSTREAM_TIMEOUT');
      throw timedOut();
    }
  }

  /** A 3xx got did not follow. A Location may carry credentials or a presigned query: only its redacted form is shown. */
  private refusedRedirect(response: UpstreamResponse, call: UpstreamCall) {
    const raw = response.headers.location;
    const target = raw ? resolveLocation(raw, response.url.href) : undefined;
    const location = target ? redact(target) : raw ? redact(raw) : '(none)';
    const why = !raw ? 'no Location' : !target ? 'an invalid Location' : this.context.policy.refusal(target) ?? 'a redirect not followed';
    return redirectRefused(call, this.context.remote.name, location, why);
  }
}

/** The bound of a whole wait for response headers; 0 = none. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer?: NodeJS.Timeout;

  constructor(ms: number) {
    if (ms > 0) this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  get signal(): AbortSignal { return this.controller.signal; }
  get expired(): boolean { return this.controller.signal.aborted; }
  clear(): void { clearTimeout(this.timer); }
}

function retryable(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e.name === 'TimeoutError' || (e.code !== undefined && RETRYABLE_CODES.has(e.code));
}

function backoff(attempt: number): number {
  return Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
}
