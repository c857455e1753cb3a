/** What an upstream client is told of its remote; a validated `RemoteConfig` is one. */
export interface UpstreamRemote {
  readonly name: string;
  /** The upstream's base URL: its origin is always allowed and gets the remote's `headers`. */
  readonly upstream: URL;
  /** `allowedHosts` entries: other origins requests and redirects may go to. */
  readonly allowedHosts: readonly string[];
  /** Sent with every request the remote's plugin makes; never after a redirect to another origin. */
  readonly headers: Readonly<Record<string, string>>;
  /** Serve only what is stored: every request is refused. */
  readonly offline: boolean;
  readonly client: ClientSettings;
}

/** Timeouts (ms; 0 = no limit), retries and limits of one remote's client (`upstream.*`, `client.*`). */
export interface ClientSettings {
  readonly connectTimeout: number;
  /** One attempt, from request sent to response headers. */
  readonly responseTimeout: number;
  /** The whole wait for response headers, retries and their backoff included. */
  readonly firstByteTimeout: number;
  /** Longest silence while a body streams. */
  readonly idleTimeout: number;
  /** Retries before the first byte for idempotent failures. */
  readonly retries: number;
  /** Open sockets per upstream host. */
  readonly maxSockets: number;
  /** Failures in a row after which a host is marked down; 0 = never. */
  readonly downAfter: number;
}
