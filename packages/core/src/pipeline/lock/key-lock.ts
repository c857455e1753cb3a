/**
 * One holder per key at a time: the stage between looking a key up and asking the upstream. The
 * in-process single flight and the cross-replica cluster lock are both key locks; the container
 * chains them (a process lets one caller per key through, and that caller takes the shared lock).
 */
export interface KeyLock<T> {
  /** A run this lock (or one it chains to) already has under way for `key`, to join without a lookup. */
  joinable(key: string): Promise<T> | undefined;
  /** Runs `work` as the key's only holder, or joins the holder's result. */
  run(key: string, work: LockedWork<T>): Promise<T>;
}

/** What a holder of a key does. */
export interface LockedWork<T> {
  /** Looks again for a stored copy (another replica may have committed one); `undefined` = none. */
  recheck(): Promise<T | undefined>;
  /** Asks the upstream. */
  fetch(): Promise<T>;
  /** Settles when the fetched result is committed (or has failed): the key is held until then. */
  holdUntil(result: T): Promise<unknown>;
  /** True for a joined result that can serve no new caller (its fill failed): the caller runs again. */
  isOver?(result: T): boolean;
}
