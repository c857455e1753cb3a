import { cfError, isCacheForgeError, type CacheForgeError } from '../errors/errors.js';
import type { ErrorCode } from '../errors/codes.js';
import { ERROR_CODES } from '../errors/codes.js';
import { isOurs, type KeyEvent, type PrimaryMessage, type Request, type WireError, type WorkerMessage } from './messages.js';
import type { PurgeEvent } from '../cache/purge-bus.js';

/** The IPC endpoint a worker process has: `process.send` and `process.on('message')` under cluster. */
export interface Endpoint {
  send(message: WorkerMessage, callback?: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  readonly connected: boolean;
}

type KeyListener = (event: KeyEvent | Extract<PrimaryMessage, { t: 'released' }>) => void;

/**
 * A worker's side of the channel to its primary: requests with answers, the events of the keys
 * this worker waits on, hot-index news and purges from the other workers, and the primary's metrics round.
 */
export class WorkerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private readonly keys = new Map<string, Set<KeyListener>>();
  onHot?: (key: string, digest: string | undefined, checkedAt: number | undefined) => void;
  onPurge?: (event: PurgeEvent) => void;
  onMetricsCollect?: () => Promise<unknown[]>;
  onStop?: () => void;

  constructor(private readonly endpoint: Endpoint, readonly instanceId: string, readonly worker: number) {
    endpoint.on('message', (message) => { if (isOurs(message)) this.receive(message as PrimaryMessage); });
  }

  /** Asks the primary; rejects when the primary is gone or answers with an error. */
  request<T>(req: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.endpoint.connected) { reject(primaryGone()); return; }
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ cf: 1, t: 'req', id, req });
    });
  }

  /** Sends without waiting for an answer (dropped once the primary is gone). */
  post(message: WorkerMessage, callback?: () => void): void {
    if (!this.endpoint.connected) { callback?.(); return; }
    try {
      this.endpoint.send(message, () => callback?.());
    } catch {
      callback?.(); // the channel closed under us: the disconnect handler ends this worker
    }
  }

  /** Listens to the events of `key` until the returned function is called. */
  watch(key: string, listener: KeyListener): () => void {
    let set = this.keys.get(key);
    if (!set) { set = new Set(); this.keys.set(key, set); }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.keys.get(key) === set) this.keys.delete(key);
    };
  }

  /** Fails every request still waiting (the primary is gone). */
  disconnected(): void {
    for (const { reject } of this.pending.values()) reject(primaryGone());
    this.pending.clear();
  }

  private receive(message: PrimaryMessage): void {
    switch (message.t) {
      case 'res': {
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        if (message.error) waiting.reject(fromWire(message.error));
        else waiting.resolve(message.value);
        return;
      }
      case 'hot':
        this.onHot?.(message.key, message.digest, message.checkedAt);
        return;
      case 'purge':
        this.onPurge?.(message.event);
        return;
      case 'metrics-collect': {
        const collect = this.onMetricsCollect ?? (async () => []);
        collect().then((metrics) => this.post({ cf: 1, t: 'metrics-reply', id: message.id, metrics }), () => this.post({ cf: 1, t: 'metrics-reply', id: message.id, metrics: [] }));
        return;
      }
      case 'stop':
        this.onStop?.();
        return;
      case 'hello':
        return;
      default:
        for (const listener of [...this.keys.get(message.key) ?? []]) listener(message);
    }
  }
}

/** An error as it crosses the channel: its code, message and response headers. */
export function toWire(err: unknown): WireError {
  if (isCacheForgeError(err)) return { code: err.code, message: err.message, headers: err.headers };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** The coded error a wire error stands for (an uncoded one becomes an upstream failure). */
export function fromWire(wire: WireError): CacheForgeError {
  const code: ErrorCode = wire.code && Object.hasOwn(ERROR_CODES, wire.code) ? wire.code as ErrorCode : 'CF_ERR_UPSTREAM_UNAVAILABLE';
  return cfError(code, wire.message, wire.headers ? { headers: { ...wire.headers } } : {});
}

function primaryGone(): Error {
  return cfError('CF_ERR_UPSTREAM_UNAVAILABLE', 'the supervising process is gone; this worker is exiting');
}
