/**
 * A small key/value store with expiry that a plugin's handler may use for disposable state (upstream
 * tokens, short-lived lookups). It lives in the hot cache, so replicas share it when the hot cache is
 * shared; keys are namespaced per plugin and remote, so plugins cannot read each other's entries.
 * Losing it must only cost work, never correctness.
 */
export interface PluginStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` (JSON-serializable) for `ttlMs` milliseconds. */
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

