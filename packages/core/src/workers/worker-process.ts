import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineServices } from '../pipeline/services.js';
import type { Logger } from '../util/logger.js';
import { isOurs, type PrimaryMessage } from './messages.js';
import { WorkerChannel, type Endpoint } from './worker-channel.js';

/** How long a worker waits for its primary's hello before it gives up. */
const HELLO_WAIT_MS = 15_000;
/** How long a worker whose primary is gone lets its aborted fills clean up before it exits. */
const ORPHAN_EXIT_MS = 5_000;

/** This process's channel to its primary, once the primary said who the instance is. */
export function joinPrimary(endpoint: Endpoint = process as unknown as Endpoint): Promise<WorkerChannel> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no hello from the supervising process')), HELLO_WAIT_MS);
    const onMessage = (message: unknown): void => {
      if (!isOurs(message) || (message as PrimaryMessage).t !== 'hello') return;
      const hello = message as Extract<PrimaryMessage, { t: 'hello' }>;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(new WorkerChannel(endpoint, hello.instanceId, hello.worker));
    };
    process.on('message', onMessage);
    endpoint.send({ cf: 1, t: 'join' });
  });
}

/**
 * A worker outlives its primary only to clean up: with the primary gone (killed), no connection
 * reaches it any more, so it aborts its fills (their temp files are deleted, never committed) and
 * exits.
 */
export function exitWithPrimary(channel: WorkerChannel, services: () => PipelineServices, log: Logger): void {
  // node:cluster exits a worker at once when its channel closes unexpectedly, before any listener
  // of ours could delete its temp files; marking the worker as leaving on purpose keeps it for this.
  if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
  process.once('disconnect', () => {
    channel.disconnected();
    const fills = services().fills;
    log.warn({ fills: fills.size }, 'the supervising process is gone; aborting fills and exiting');
    for (const fill of fills.keys()) if (fill.state === 'filling') fill.abort(new Error('the supervising process is gone'));
    void Promise.race([Promise.allSettled(fills.values()), sleep(ORPHAN_EXIT_MS)]).finally(() => process.exit(1));
  });
}
