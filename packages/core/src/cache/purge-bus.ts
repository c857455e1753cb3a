import { EventEmitter } from 'node:events';

/**
 * What a purge removed, as every replica's in-process hot index must drop it: one key (all its
 * variants), every key below a prefix, a whole remote, or everything.
 */
export interface PurgeEvent {
  /** `remotes`: not a purge but a nudge that the runtime remotes changed (re-read them now). */
  readonly kind?: 'remotes';
  readonly remote?: string;
  readonly key?: string;
  readonly prefix?: string;
}

/**
 * Carries purges to every process that holds a hot index. In one process it is a local emitter;
 * in scale-out it is Redis pub/sub, so another replica drops the keys as soon as the message
 * arrives (the delay is Redis' delivery, milliseconds).
 */
export interface PurgeBus {
  readonly name: string;
  /** Sends to every subscriber, this process's included. */
  publish(event: PurgeEvent): Promise<void>;
  subscribe(listener: (event: PurgeEvent) => void): void;
  close(): Promise<void>;
}

/** The bus of a process alone (memory hot cache). */
export class LocalPurgeBus implements PurgeBus {
  readonly name = 'local';
  private readonly emitter = new EventEmitter();

  async publish(event: PurgeEvent): Promise<void> {
    this.emitter.emit('purge', event);
  }

  subscribe(listener: (event: PurgeEvent) => void): void {
    this.emitter.on('purge', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Whether a hot-index key (`remote \0 key \0 variant`) is one the event removes. */
export function purgedBy(event: PurgeEvent): (hotKey: string) => boolean {
  if (event.remote === undefined) return () => true;
  const remote = `${event.remote}\u0000`;
  if (event.key !== undefined) {
    const exact = `${remote}${event.key}\u0000`;
    return (k) => k.startsWith(exact);
  }
  const prefix = remote + (event.prefix ?? '');
  return (k) => k.startsWith(prefix);
}
