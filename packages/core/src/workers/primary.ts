import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { CacheForgeConfig } from '../config/config.js';
import type { Logger } from '../util/logger.js';
import { FilesystemStorage } from '../storage/filesystem/filesystem-storage.js';
import { KnexMetadataStore } from '../metadata/knex/knex-metadata-store.js';
import { KeyvCache } from '../cache/keyv/keyv-cache.js';
import { systemClock } from '../util/clock.js';
import { Coordinator } from './coordinator.js';
import { warnNoAdminToken } from '../auth/start-warning.js';
import { isOurs, type PrimaryMessage, type WorkerMessage } from './messages.js';

const ignore = (): void => undefined;

/** A worker that dies sooner than this after its start counts as a crash loop: the next one waits. */
const QUICK_DEATH_MS = 5_000;
const MAX_BACKOFF_MS = 10_000;

/**
 * The supervising process of `server.workers`: it serves no request itself. It prepares the
 * embedded backends once (the temp sweep, the migrations), forks the workers (node:cluster shares
 * the listening socket among them), keeps the state they share (`Coordinator`), replaces a worker
 * that dies, and on SIGTERM lets every worker drain before it exits. Workers exit when it is gone.
 */
export async function runPrimary(config: CacheForgeConfig, log: Logger, count: number): Promise<number> {
  await prepareBackends(config);
  const instanceId = randomBytes(8).toString('hex');
  const coordinator = new Coordinator(new KeyvCache({ name: 'memory', clock: systemClock }), log.child({ component: 'workers' }));
  const listening = new Set<number>();
  const started = new Map<number, number>();
  const slots = new Map<number, number>();
  let stopping = false;
  let announced = false;
  let backoff = 100;

  return new Promise<number>((resolve) => {
    const fork = (slot: number): void => {
      const worker = cluster.fork();
      slots.set(worker.id, slot);
      started.set(worker.id, Date.now());
      // With a callback, a send on a channel that just closed is reported there, not as an 'error' event.
      const send = (message: PrimaryMessage): void => { if (worker.isConnected()) worker.send(message, ignore); };
      coordinator.attach(worker.id, send);
      worker.on('error', (err) => log.debug({ worker: slot, err }, 'worker channel error'));
      worker.on('message', (message: unknown) => {
        if (!isOurs(message)) return;
        const ours = message as WorkerMessage;
        if (ours.t === 'join') { send({ cf: 1, t: 'hello', instanceId, worker: slot }); return; }
        if (ours.t === 'listening') onListening(worker, ours.port);
        coordinator.receive(worker.id, ours);
      });
    };
    const onListening = (worker: Worker, port: number): void => {
      listening.add(worker.id);
      if (announced || listening.size < count) return;
      announced = true;
      log.info({ host: config.server.host, port, workers: count, pid: process.pid, config: config.source }, 'cacheforge listening');
      if (config.auth.adminTokens.length === 0) warnNoAdminToken(log, config.auth.anonymousRead);
    };
    cluster.on('exit', (worker, code, signal) => {
      listening.delete(worker.id);
      coordinator.detach(worker.id);
      const slot = slots.get(worker.id) ?? 0;
      slots.delete(worker.id);
      const pid = worker.process.pid;
      // Its temporaries are no one's now (followers that opened them keep their file descriptors).
      const temporaries = pid === undefined ? undefined : workerTemporaries(config, pid);
      if (temporaries) void rm(temporaries, { recursive: true, force: true }).catch(() => undefined);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) { log.info('all workers stopped'); resolve(0); }
        return;
      }
      const lived = Date.now() - (started.get(worker.id) ?? 0);
      started.delete(worker.id);
      backoff = lived < QUICK_DEATH_MS ? Math.min(backoff * 2, MAX_BACKOFF_MS) : 100;
      log.warn({ worker: slot, pid, code, signal, restartInMs: backoff }, 'worker exited; starting a replacement');
      setTimeout(() => { if (!stopping) fork(slot); }, backoff).unref();
    });
    const stop = (signal: NodeJS.Signals): void => {
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      if (stopping) {
        log.warn({ signal }, 'second signal: killing the workers');
        for (const worker of workers) worker.process.kill('SIGKILL');
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal, workers: workers.length }, 'shutting down: every worker drains');
      if (workers.length === 0) { resolve(0); return; }
      // A message, not a signal: a worker that got the same SIGTERM from its process group
      // (systemd's control-group kill) must not take this for a second one and skip draining.
      for (const worker of workers) worker.send({ cf: 1, t: 'stop' }, ignore);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (let slot = 1; slot <= count; slot++) fork(slot);
  });
}

/** The one-time work of the embedded backends, before any worker runs: sweep temporaries, migrate. */
async function prepareBackends(config: CacheForgeConfig): Promise<void> {
  if (config.storage.filesystem) await new FilesystemStorage({ root: config.storage.filesystem.path }).init();
  if (config.metadata.sqlite) {
    const metadata = new KnexMetadataStore({ dialect: 'sqlite', filename: config.metadata.sqlite.filename });
    try { await metadata.init(); } finally { await metadata.close(); }
  }
}

/** The temp folder of the worker with `pid` (filesystem storage only): each worker sweeps only its own. */
export function workerTemporaries(config: CacheForgeConfig, pid: number): string | undefined {
  const fs = config.storage.filesystem;
  return fs ? path.join(path.resolve(fs.path), 'tmp', `worker-${pid}`) : undefined;
}
