import { LocalPurgeBus, type PurgeBus, type PurgeEvent } from '../cache/purge-bus.js';
import type { WorkerChannel } from './worker-channel.js';

/**
 * The purge bus of workers on the embedded defaults: a purge reaches this worker's subscribers at
 * once and every other worker's through the primary, which relays it as it relays hot-index news
 * (the delay is one IPC hop). With Redis the Redis bus is used instead and reaches every process.
 */
export class IpcPurgeBus implements PurgeBus {
  readonly name = 'workers';
  private readonly local = new LocalPurgeBus();

  constructor(private readonly channel: WorkerChannel) {
    channel.onPurge = (event) => { void this.local.publish(event); };
  }

  async publish(event: PurgeEvent): Promise<void> {
    await this.local.publish(event);
    this.channel.post({ cf: 1, t: 'purge', event });
  }

  subscribe(listener: (event: PurgeEvent) => void): void {
    this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.channel.onPurge = undefined;
    await this.local.close();
  }
}
