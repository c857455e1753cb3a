import type { ArtifactId, ArtifactRecord } from './metadata.js';

/**
 * What the management API keeps and asks of the metadata store beside the artifact rows the
 * pipeline writes: API tokens, the catalogue read as folders, purges, and download statistics.
 */
export interface ManagementStore {
  readonly tokens: TokenStore;
  readonly catalogue: ArtifactCatalogue;
  readonly stats: StatsStore;
  readonly remotes: RuntimeRemoteStore;
}

/** A remote added through the API: its config as sent, and when it last changed (Unix ms). */
export interface RuntimeRemoteRow {
  readonly name: string;
  readonly definition: Record<string, unknown>;
  readonly updatedAt: number;
}

/** The remotes added through the API, which every replica and worker reads back (see RuntimeRemotes). */
export interface RuntimeRemoteStore {
  list(): Promise<RuntimeRemoteRow[]>;
  /** Inserts or replaces; `updatedAt` must move forward on every change so the others see it. */
  put(row: RuntimeRemoteRow): Promise<void>;
  /** False when there was no such remote. */
  delete(name: string): Promise<boolean>;
}

/** A token made through the API. Only the sha256 of its value is stored. */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly hash: string;
  readonly scopes: readonly string[];
  /** The remotes it may read; absent = all. */
  readonly remotes?: readonly string[];
  /** Unix ms. */
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly lastUsedAt?: number;
  readonly revokedAt?: number;
}

export interface TokenStore {
  /** Inserts a token; CF_ERR_API_CONFLICT when a token of that name exists (revoked ones included). */
  create(token: Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>): Promise<void>;
  byHash(hash: string): Promise<TokenRecord | undefined>;
  byId(id: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  /** Marks it revoked at `at`; false when no such live token exists. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Moves last-used times forward, many tokens in one batch. */
  touch(batch: readonly { id: string; at: number }[]): Promise<void>;
}

/** One child of a folder listing: a folder (a prefix ending in `/`) or an artifact key. */
export interface CatalogueChild {
  readonly name: string;
  readonly kind: 'folder' | 'artifact';
  /** Rows (artifacts × variants) under it. */
  readonly count: number;
  readonly size: number;
  /** Unix ms; 0 when never served from the cache. */
  readonly lastAccess: number;
}

export interface ArtifactCatalogue {
  /**
   * The children of `prefix` in one remote, in key order, at most `limit`, starting after the
   * child `after` names (the previous page's last child).
   */
  children(remote: string, prefix: string, options: { limit: number; after?: string }): Promise<CatalogueChild[]>;
  /** Rows whose key contains `text` below `prefix`, in key order. */
  search(remote: string, prefix: string, text: string, options: { limit: number; after?: string }): Promise<ArtifactRecord[]>;
  /** Every variant of one key. */
  variants(remote: string, key: string): Promise<ArtifactRecord[]>;
  /**
   * Deletes the rows of one key (`exact`), of every key below a prefix, or of a whole remote
   * (or every remote) and returns what they were: their blobs may now be unreferenced.
   */
  purge(target: PurgeTarget): Promise<PurgedRow[]>;
  /** Of these digests, those no row references any more. */
  unreferenced(digests: readonly string[]): Promise<string[]>;
}

/** What a purge removes. */
export type PurgeTarget =
  | { readonly remote: string; readonly key: string }
  | { readonly remote: string; readonly prefix: string }
  | { readonly remote?: string };

/** One increment of the download statistics: a period (hour, Unix ms), a remote, a dimension and its value. */
export interface StatsIncrement {
  readonly period: number;
  readonly remote: string;
  /** `status` (X-Cache-Status), `client` (token name or address), `artifact` (path), `upstream` (`fetched`: bytes received). */
  readonly kind: 'status' | 'client' | 'artifact' | 'upstream';
  readonly name: string;
  readonly requests: number;
  readonly bytes: number;
}

export interface StatsStore {
  /** Adds increments in one transaction (replicas add up). */
  add(batch: readonly StatsIncrement[]): Promise<void>;
  /** Sums per (remote, kind, name) over periods in [since, until). */
  totals(query: { remote?: string; since?: number; until?: number }): Promise<Omit<StatsIncrement, 'period'>[]>;
}

/** A row a purge deleted. */
export interface PurgedRow extends ArtifactId {
  readonly digest: string;
  readonly size: number;
}
