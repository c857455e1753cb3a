import type { BlobInfo } from '../storage/storage.js';
import type { UpstreamMeta } from '../pipeline/resolved.js';
import type { PurgeEvent } from '../cache/purge-bus.js';

/**
 * The messages the supervising primary and its workers exchange over the cluster's IPC channel.
 * Every message carries `cf: 1`, so anything else on the channel (node's own) is ignored.
 */

/** A coded error as it crosses a process boundary. */
export interface WireError {
  readonly code?: string;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/** What a worker asks of the primary and waits for an answer to. */
export type Request =
  | { readonly op: 'lock'; readonly key: string }
  | { readonly op: 'cache.get'; readonly key: string }
  | { readonly op: 'cache.set'; readonly key: string; readonly value: unknown; readonly ttl?: number }
  | { readonly op: 'cache.delete'; readonly key: string }
  | { readonly op: 'cache.tryLock'; readonly key: string; readonly ttl: number }
  | { readonly op: 'cache.unlock'; readonly token: string }
  | { readonly op: 'metrics' };

/** The primary's answer to a lock request: `gen` names this holding of the key (messages about it carry it). */
export interface LockAnswer {
  readonly granted: boolean;
  readonly gen: number;
}

/** The state of a fill that followers in other workers mirror. */
export interface FillSnapshot {
  /** The attempt (2 after a verification failure). */
  readonly seq: number;
  /** The temp file the bytes are in until commit. */
  readonly path: string;
  /** Content-Length or the size the index lists. */
  readonly size?: number;
  readonly meta: UpstreamMeta;
  readonly flushed: number;
  readonly state: 'filling' | 'verified' | 'committed' | 'failed';
  readonly digest?: string;
  readonly blob?: BlobInfo;
  readonly error?: WireError;
}

/** About one holding of a key: from its holder to the primary, and from the primary to the key's waiters. */
export type KeyEvent =
  | { readonly t: 'fill'; readonly key: string; readonly gen: number; readonly fill: FillSnapshot }
  | { readonly t: 'progress'; readonly key: string; readonly gen: number; readonly seq: number; readonly flushed: number }
  | { readonly t: 'verified'; readonly key: string; readonly gen: number; readonly seq: number; readonly flushed: number; readonly digest: string }
  | { readonly t: 'committed'; readonly key: string; readonly gen: number; readonly seq: number; readonly blob: BlobInfo }
  | { readonly t: 'failed'; readonly key: string; readonly gen: number; readonly seq: number; readonly error: WireError };

/** A worker's message to the primary. */
export type WorkerMessage = { readonly cf: 1 } & (
  | { readonly t: 'req'; readonly id: number; readonly req: Request }
  | { readonly t: 'unlock'; readonly key: string; readonly gen: number; readonly error?: WireError }
  | KeyEvent
  /** A hot-index entry was set (`digest`) or dropped (no `digest`) in the sender. */
  | { readonly t: 'hot'; readonly key: string; readonly digest?: string; readonly checkedAt?: number }
  /** A purge made in the sender: every other worker's hot index drops what it names. */
  | { readonly t: 'purge'; readonly event: PurgeEvent }
  | { readonly t: 'metrics-reply'; readonly id: number; readonly metrics: unknown[] }
  | { readonly t: 'listening'; readonly port: number }
  /** The worker is ready to hear who the instance is (a message sent before it listens would be lost). */
  | { readonly t: 'join' }
);

/** The primary's message to a worker. */
export type PrimaryMessage = { readonly cf: 1 } & (
  | { readonly t: 'hello'; readonly instanceId: string; readonly worker: number }
  | { readonly t: 'res'; readonly id: number; readonly value?: unknown; readonly error?: WireError }
  | KeyEvent
  /** The key's holder let it go: a waiter that got no fill looks again (or takes the error). */
  | { readonly t: 'released'; readonly key: string; readonly gen: number; readonly error?: WireError }
  | { readonly t: 'hot'; readonly key: string; readonly digest?: string; readonly checkedAt?: number }
  | { readonly t: 'purge'; readonly event: PurgeEvent }
  | { readonly t: 'metrics-collect'; readonly id: number }
  /** Drain and exit, as on SIGTERM (a signal the worker got itself too is not a second one). */
  | { readonly t: 'stop' }
);

export function isOurs(message: unknown): message is { cf: 1; t: string } {
  return typeof message === 'object' && message !== null && (message as { cf?: unknown }).cf === 1;
}
