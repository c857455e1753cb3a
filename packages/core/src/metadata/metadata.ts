/**
 * Metadata: the durable catalogue of what the cache holds: which (remote, key, variant) maps to
 * which blob, with the upstream's validators and the access statistics cleanup will use. A row is
 * written only after its blob is committed, so a row always names a complete blob.
 */
export interface MetadataStore {
  /** Backend name for logs and errors (`sqlite`, `postgres`). */
  readonly name: string;
  /** Creates or upgrades the schema (migrations). Idempotent. */
  init(): Promise<void>;
  /** The record of one cached object; `undefined` when absent. */
  getArtifact(id: ArtifactId): Promise<ArtifactRecord | undefined>;
  /** Inserts or replaces the record (keeping its hit count). Idempotent. */
  putArtifact(record: NewArtifactRecord): Promise<void>;
  /** Records a successful revalidation (upstream said 304) at `checkedAt` (Unix ms). */
  markChecked(id: ArtifactId, checkedAt: number): Promise<void>;
  /** Deletes a record; true when it existed. */
  deleteArtifact(id: ArtifactId): Promise<boolean>;
  /** Adds hits and moves last-access times forward, for many records in one batch. */
  recordAccess(batch: readonly AccessCount[]): Promise<void>;
  /** Records of one remote (or all), ordered by key, `limit` at a time after `afterKey`. */
  listArtifacts(query: { remote?: string; afterKey?: string; limit: number }): Promise<ArtifactRecord[]>;
  /** How many records reference a blob (0 = the blob is garbage). */
  countBlobReferences(digest: string): Promise<number>;
  /** Resolves when the database answers (for `/-/ready`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Identifies one cached object. `variant` is '' when the format has no variants. */
export interface ArtifactId {
  readonly remote: string;
  readonly key: string;
  readonly variant: string;
}

/** What the pipeline writes after a commit. Times are Unix ms. */
export interface NewArtifactRecord extends ArtifactId {
  /** Lowercase hex sha256 of the stored bytes (the blob). */
  readonly digest: string;
  /** Bytes. */
  readonly size: number;
  readonly contentType?: string;
  /** Upstream response headers replayed on hits (lowercase names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The upstream's ETag, for conditional revalidation. */
  readonly upstreamEtag?: string;
  /** The upstream's Last-Modified (HTTP date), for conditional revalidation and our own Last-Modified. */
  readonly upstreamLastModified?: string;
  readonly class: 'immutable' | 'mutable';
  readonly fetchedAt: number;
  readonly checkedAt: number;
}

/** A stored record: what was written plus access statistics. */
export interface ArtifactRecord extends NewArtifactRecord {
  readonly hits: number;
  /** Unix ms of the last serve; 0 when never served from the cache. */
  readonly lastAccess: number;
}

/** Hits to add to one record, and the latest access time (Unix ms). */
export interface AccessCount extends ArtifactId {
  readonly hits: number;
  readonly lastAccess: number;
}
