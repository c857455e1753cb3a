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
  return new Promise<number>((resolve) => {
    const supervisor = new Supervisor(config, log, count, resolve);
    const stop = (signal: NodeJS.Signals): void => supervisor.stop(signal);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    cluster.on('exit', (worker, code, signal) => supervisor.exited(worker, code, signal));
    for (let slot = 1; slot <= count; slot++) supervisor.fork(slot);
  });
}

/** The primary's bookkeeping of its workers: which slot each fills, when it started, who listens. */
class Supervisor {
  private readonly instanceId = randomBytes(8).toString('hex');
  private readonly coordinator: Coordinator;
  private readonly listening = new Set<number>();
  private readonly started = new Map<number, number>();
  private readonly slots = new Map<number, number>();
  private stopping = false;
  private announced = false;
  private backoff = 100;

  constructor(private readonly config: CacheForgeConfig, private readonly log: Logger, private readonly count: number,
    private readonly resolve: (code: number) => void) {
    this.coordinator = new Coordinator(new KeyvCache({ name: 'memory', clock: systemClock }), log.child({ component: 'workers' }));
  }

  fork(slot: number): void {
    const worker = cluster.fork();
    this.slots.set(worker.id, slot);
    this.started.set(worker.id, Date.now());
    // With a callback, a send on a channel that just closed is reported there, not as an 'error' event.
    const send = (message: PrimaryMessage): void => { if (worker.isConnected()) worker.send(message, ignore); };
    this.coordinator.attach(worker.id, send);
    worker.on('error', (err) => this.log.debug({ worker: slot, err }, 'worker channel error'));
    worker.on('message', (message: unknown) => {
      if (!isOurs(message)) return;
      const ours = message as WorkerMessage;
      if (ours.t === 'join') { send({ cf: 1, t: 'hello', instanceId: this.instanceId, worker: slot }); return; }
      if (ours.t === 'listening') this.onListening(worker, ours.port);
      this.coordinator.receive(worker.id, ours);
    });
  }

  /** The instance is announced once, when every worker listens. */
  private onListening(worker: Worker, port: number): void {
    this.listening.add(worker.id);
    if (this.announced || this.listening.size < this.count) return;
    this.announced = true;
    this.log.info({ host: this.config.server.host, port, workers: this.count, pid: process.pid, config: this.config.source }, 'cacheforge listening');
    if (this.config.auth.adminTokens.length === 0) warnNoAdminToken(this.log, this.config.auth.anonymousRead);
  }

  /** A worker is gone: its fills end for their followers, its temporaries go, and (unless stopping) a replacement starts. */
  exited(worker: Worker, code: number, signal: string): void {
    this.listening.delete(worker.id);
    this.coordinator.detach(worker.id);
    const slot = this.slots.get(worker.id) ?? 0;
    this.slots.delete(worker.id);
    const pid = worker.process.pid;
    // Its temporaries are no one's now (followers that opened them keep their file descriptors).
    const temporaries = pid === undefined ? undefined : workerTemporaries(this.config, pid);
    if (temporaries) void rm(temporaries, { recursive: true, force: true }).catch(() => undefined);
    if (this.stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) { this.log.info('all workers stopped'); this.resolve(0); }
      return;
    }
    const lived = Date.now() - (this.started.get(worker.id) ?? 0);
    this.started.delete(worker.id);
    this.backoff = lived < QUICK_DEATH_MS ? Math.min(this.backoff * 2, MAX_BACKOFF_MS) : 100;
    this.log.warn({ worker: slot, pid, code, signal, restartInMs: this.backoff }, 'worker exited; starting a replacement');
    setTimeout(() => { if (!this.stopping) this.fork(slot); }, this.backoff).unref();
  }

  /** The first signal drains every worker; a second one kills them. */
  stop(signal: NodeJS.Signals): void {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (this.stopping) {
      this.log.warn({ signal }, 'second signal: killing the workers');
      for (const worker of workers) worker.process.kill('SIGKILL');
      this.resolve(1);
      return;
    }
    this.stopping = true;
    this.log.info({ signal, workers: workers.length }, 'shutting down: every worker drains');
    if (workers.length === 0) { this.resolve(0); return; }
    // A message, not a signal: a worker that got the same SIGTERM from its process group
    // (systemd's control-group kill) must not take this for a second one and skip draining.
    for (const worker of workers) worker.send({ cf: 1, t: 'stop' }, ignore);
  }
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
