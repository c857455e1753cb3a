/** Runs one query under a name (for the error's `op` and the measurements). */
export type Run = <T>(op: string, fn: () => PromiseLike<T>) => Promise<T>;
