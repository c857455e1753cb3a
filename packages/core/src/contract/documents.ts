/** What the pipeline is asked for and what it reads back, shared by the pipeline and verification types. */

/** How to ask the upstream for one object. */
export interface UpstreamRequest {
  /**
   * Absolute URL; must be on the remote's upstream host or one of its allowed hosts. A string is
   * parsed only when the upstream is actually asked (hits never pay for it).
   */
  readonly url: URL | string;
  /** Extra request headers (e.g. `accept`). Credentials are added by the core. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** How a response came to be: the `X-Cache-Status` header. */
export type CacheStatus = 'HIT' | 'MISS' | 'REVALIDATED' | 'STALE' | 'BYPASS';

/** A mutable document read whole, for handlers that transform or parse it. */
export interface LoadedDocument {
  readonly body: Buffer;
  readonly cacheStatus: CacheStatus;
  readonly contentType?: string;
  /** Strong validator of the stored bytes. */
  readonly etag: string;
  readonly lastModified?: Date;
  readonly headers: Readonly<Record<string, string>>;
}
