/**
 * The one table of Cache Forge error codes. Codes are never reused or renamed: clients, dashboards
 * and third-party plugins match on them. `status` is the HTTP status the server answers with; only
 * `server/error-middleware.ts` reads it. `docs/errors.md` documents every code (a test checks both
 * ways).
 */
export interface ErrorSpec {
  /** HTTP status the error maps to when it reaches a client. */
  readonly status: number;
  /** Short, stable summary; the thrown error's message adds the specifics. */
  readonly title: string;
  /** Whether the message is safe to show to clients (internal faults are not). */
  readonly expose: boolean;
  /** How loudly an occurrence is logged: expected outcomes stay quiet. */
  readonly level: 'debug' | 'info' | 'warn' | 'error';
}

export const ERROR_CODES = {
  // CONFIG: detected at start; exit code 2, never reach HTTP.
  CF_ERR_CONFIG_INVALID: { status: 500, title: 'invalid configuration', expose: false, level: 'error' },
  CF_ERR_CONFIG_NOT_FOUND: { status: 500, title: 'configuration file not found', expose: false, level: 'error' },
  CF_ERR_CONFIG_UNREADABLE: { status: 500, title: 'configuration file cannot be parsed', expose: false, level: 'error' },

  // PLUGIN: detected at start; exit code 2.
  CF_ERR_PLUGIN_NOT_FOUND: { status: 500, title: 'plugin package not found', expose: false, level: 'error' },
  CF_ERR_PLUGIN_CONTRACT: { status: 500, title: 'plugin does not implement the contract', expose: false, level: 'error' },
  CF_ERR_PLUGIN_VERSION_MISMATCH: { status: 500, title: 'plugin does not support this core version', expose: false, level: 'error' },
  CF_ERR_PLUGIN_DUPLICATE: { status: 500, title: 'two plugins declare the same format', expose: false, level: 'error' },
  CF_ERR_PLUGIN_FAILED: { status: 500, title: 'plugin handler failed', expose: false, level: 'error' },

  // REQUEST: the client's request is malformed.
  CF_ERR_REQUEST_BAD_PATH: { status: 400, title: 'bad request path', expose: true, level: 'info' },
  CF_ERR_REQUEST_METHOD: { status: 405, title: 'method not allowed', expose: true, level: 'info' },
  CF_ERR_REQUEST_RANGE: { status: 416, title: 'range not satisfiable', expose: true, level: 'debug' },
  CF_ERR_REMOTE_UNKNOWN: { status: 404, title: 'no such remote', expose: true, level: 'info' },
  CF_ERR_NOT_FOUND: { status: 404, title: 'not found', expose: true, level: 'debug' },
  CF_ERR_REQUEST_TOO_MANY: { status: 429, title: 'too many concurrent requests from one client', expose: true, level: 'warn' },
  CF_ERR_LOOP_DETECTED: { status: 508, title: 'request loop detected', expose: true, level: 'warn' },

  // AUTH: who the client is and what it may do (management API and, with auth.anonymousRead false, artifacts).
  CF_ERR_AUTH_REQUIRED: { status: 401, title: 'a token is required', expose: true, level: 'info' },
  CF_ERR_AUTH_INVALID: { status: 401, title: 'the token is unknown, expired or revoked', expose: true, level: 'info' },
  CF_ERR_AUTH_FORBIDDEN: { status: 403, title: 'the token does not grant this', expose: true, level: 'info' },
  CF_ERR_PROXY_AUTH_REQUIRED: { status: 407, title: 'a token is required in Proxy-Authorization', expose: true, level: 'info' },

  // API: the management API's requests.
  CF_ERR_API_BAD_REQUEST: { status: 400, title: 'invalid request to the management API', expose: true, level: 'info' },
  CF_ERR_API_CONFLICT: { status: 409, title: 'the request conflicts with the current state', expose: true, level: 'info' },

  // PROXY: a request sent to Cache Forge as an HTTP proxy (absolute-form target, CONNECT).
  CF_ERR_PROXY_TARGET_NOT_CONFIGURED: { status: 403, title: 'proxy target is not the upstream of any remote', expose: true, level: 'info' },
  CF_ERR_PROXY_CONNECT_REFUSED: { status: 405, title: 'CONNECT is not supported: Cache Forge is not a tunnel', expose: true, level: 'info' },

  // POLICY: the remote's rules refuse the request.
  CF_ERR_POLICY_DENIED: { status: 403, title: 'refused by policy', expose: true, level: 'info' },
  CF_ERR_POLICY_TOO_LARGE: { status: 403, title: 'artifact exceeds the size limit', expose: true, level: 'info' },

  // UPSTREAM: what the remote's upstream answered, or failed to.
  CF_ERR_UPSTREAM_NOT_FOUND: { status: 404, title: 'not found upstream', expose: true, level: 'debug' },
  CF_ERR_UPSTREAM_UNAVAILABLE: { status: 502, title: 'upstream unavailable', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_TIMEOUT: { status: 504, title: 'upstream timed out', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_DOWN: { status: 502, title: 'upstream is down; only stored copies are served', expose: true, level: 'info' },
  CF_ERR_UPSTREAM_OFFLINE: { status: 504, title: 'remote is offline; only stored copies are served', expose: true, level: 'info' },
  CF_ERR_UPSTREAM_RATE_LIMITED: { status: 429, title: 'upstream rate limit', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_DENIED: { status: 502, title: 'upstream refused the request', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_REDIRECT: { status: 502, title: 'upstream redirected to a host this remote does not allow', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_TRUNCATED: { status: 502, title: 'upstream body ended early', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_LENGTH_MISMATCH: { status: 502, title: 'upstream body length differs from its Content-Length', expose: true, level: 'warn' },
  CF_ERR_UPSTREAM_DIGEST_MISMATCH: { status: 502, title: 'upstream bytes do not match the expected digest', expose: true, level: 'error' },
  CF_ERR_UPSTREAM_INVALID: { status: 502, title: 'upstream answered a document its format cannot read', expose: true, level: 'warn' },

  // STORAGE / METADATA / CACHE: our own backends.
  CF_ERR_STORAGE_NOT_FOUND: { status: 404, title: 'object not in storage', expose: false, level: 'debug' },
  CF_ERR_STORAGE_BACKEND: { status: 500, title: 'storage backend failure', expose: false, level: 'error' },
  CF_ERR_STORAGE_VERIFY: { status: 502, title: 'object failed verification before commit', expose: true, level: 'error' },
  CF_ERR_METADATA_BACKEND: { status: 500, title: 'metadata backend failure', expose: false, level: 'error' },
  CF_ERR_CACHE_BACKEND: { status: 500, title: 'hot cache backend failure', expose: false, level: 'error' },

  // SERVER
  CF_ERR_SHUTTING_DOWN: { status: 503, title: 'server is shutting down', expose: true, level: 'info' },
  CF_ERR_INTERNAL: { status: 500, title: 'internal error', expose: false, level: 'error' },
} as const satisfies Record<string, ErrorSpec>;

/** Every error code Cache Forge can throw. */
export type ErrorCode = keyof typeof ERROR_CODES;
