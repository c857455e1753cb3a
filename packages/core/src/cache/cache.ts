/**
 * The hot cache: disposable state shared by the replicas (freshness deadlines, remembered upstream
 * 404s, single-flight locks). Losing it costs only revalidation; nothing in it is the only copy of
 * anything.
 */
export interface HotCache {
  /** Backend name for logs and errors (`memory`, `redis`). */
  readonly name: string;
  /** The value under `key`; `undefined` when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` (JSON-serializable) for `ttlMs` milliseconds; absent or 0 = no expiry. */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Removes `key`; true when it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Takes an exclusive lock for `ttlMs` (it expires by itself if the holder dies). Returns the
   * release function, or `undefined` when another holder has it.
   */
  tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** Resolves when the backend answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
