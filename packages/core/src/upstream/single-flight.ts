/**
 * At most one run per key at a time: callers that arrive while a run is under way get the same
 * promise. What is shared is the run's result (a descriptor callers open their own readers on),
 * never a stream. The entry stays until `holdUntil(result)` settles, so that callers arriving
 * while a fill is still streaming join it rather than starting another.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The run under way for `key`, if any. */
  get(key: string): Promise<T> | undefined {
    return this.running.get(key);
  }

  /** Joins the run for `key`, or starts `run` as it. */
  run(key: string, run: () => Promise<T>, holdUntil: (result: T) => Promise<unknown> = async () => undefined): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const promise = run();
    this.running.set(key, promise);
    promise.then((result) => holdUntil(result), () => undefined).catch(() => undefined).finally(() => {
      if (this.running.get(key) === promise) this.running.delete(key);
    });
    return promise;
  }

  /** Forgets `promise` as the run for `key` (it is over for new callers, e.g. its fill failed). */
  drop(key: string, promise: Promise<T>): void {
    if (this.running.get(key) === promise) this.running.delete(key);
  }

  /** Runs under way. */
  get size(): number {
    return this.running.size;
  }
}
