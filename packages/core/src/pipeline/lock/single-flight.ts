import type { KeyLock, LockedWork } from './key-lock.js';

/**
 * At most one run per key in this process: callers that arrive while a run is under way get the
 * same promise. What is shared is the run's result (a descriptor callers open their own readers
 * on), never a stream. The entry stays until `holdUntil(result)` settles, so that callers arriving
 * while a fill is still streaming join it rather than starting another. The run itself goes
 * through `next` (the cluster lock), when there is one.
 */
export class SingleFlight<T> implements KeyLock<T> {
  private readonly running = new Map<string, Promise<T>>();

  constructor(private readonly next?: KeyLock<T>) {}

  joinable(key: string): Promise<T> | undefined {
    return this.running.get(key) ?? this.next?.joinable(key);
  }

  async run(key: string, work: LockedWork<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) {
      const result = await existing;
      if (!work.isOver?.(result)) return result;
      // Its fill failed: it is over for a caller arriving now, which asks the upstream again.
      this.drop(key, existing);
      return this.run(key, work);
    }
    const promise = this.next ? this.next.run(key, work) : work.fetch();
    this.running.set(key, promise);
    promise.then((result) => work.holdUntil(result), () => undefined).catch(() => undefined).finally(() => this.drop(key, promise));
    return promise;
  }

  /** Runs under way. */
  get size(): number {
    return this.running.size;
  }

  private drop(key: string, promise: Promise<T>): void {
    if (this.running.get(key) === promise) this.running.delete(key);
  }
}
