import { setTimeout as delay } from 'node:timers/promises';

/**
 * The time as the pipeline, freshness and locks see it. Injected, so a test moves time forward
 * instead of sleeping through a TTL; production uses {@link systemClock}.
 */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
  /** Resolves once `ms` have passed on this clock. */
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
};
