import type { Clock } from '../util/clock.js';

interface Sleeper { readonly until: number; readonly wake: () => void }

/**
 * A {@link Clock} that only moves when a test says so: `sleep` resolves once `advance` has carried
 * the time to (or past) its end, so a TTL or a lock timeout passes in no real time at all.
 */
export class ManualClock implements Clock {
  private time: number;
  private sleepers: Sleeper[] = [];

  /** Starts at `start` (Unix ms; default the real time now, so dates in logs and headers look sane). */
  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((wake) => {
      this.sleepers.push({ until: this.time + ms, wake });
    });
  }

  /**
   * Moves the time forward by `ms` and wakes, earliest first, every sleep that has ended. A sleep
   * begun after this call (by code a woken sleep resumes) counts from the new time.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock only moves forward (advance(${ms}))`);
    this.time += ms;
    const due = this.sleepers.filter((s) => s.until <= this.time).sort((a, b) => a.until - b.until);
    this.sleepers = this.sleepers.filter((s) => s.until > this.time);
    for (const sleeper of due) sleeper.wake();
  }

  /** Sleeps not yet over: lets a test wait until the code under test has started waiting. */
  get pending(): number {
    return this.sleepers.length;
  }
}
