import { availableParallelism } from 'node:os';

/** `server.workers` as a number of processes: `auto` is one per CPU the process may use. */
export function workerCount(setting: number | 'auto', cpus: () => number = availableParallelism): number {
  return setting === 'auto' ? Math.max(1, cpus()) : setting;
}
