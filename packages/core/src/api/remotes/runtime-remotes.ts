import type { CacheForgeConfig, RemoteConfig } from '../../config/config.js';
import type { LoadedPlugin } from '../../config/plugin-source.js';
import type { RuntimeRemoteStore } from '../../metadata/management.js';
import type { MountedRemote, RemoteRegistry } from '../../plugin/remote-registry.js';
import type { PurgeBus } from '../../cache/purge-bus.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { cfError } from '../../errors/errors.js';
import { RemoteParser } from './remote-parser.js';

/**
 * The longest a replica or worker serves an old set of runtime remotes: each re-reads `cf_remotes`
 * this often. A change also nudges every process at once over the purge bus (local, workers' IPC,
 * Redis pub/sub), so it is usually applied within milliseconds; the poll covers a lost nudge.
 */
export const REMOTES_POLL_MS = 5_000;

export type RemoteSource = 'file' | 'api';

/** What RuntimeRemotes needs from the process. */
export interface RuntimeRemotesDeps {
  readonly config: CacheForgeConfig;
  readonly plugins: ReadonlyMap<string, LoadedPlugin>;
  readonly store: RuntimeRemoteStore;
  readonly registry: RemoteRegistry;
  readonly bus: PurgeBus;
  readonly clock: Clock;
  readonly log: Logger;
  /** Builds a remote's handler, client and pipeline (the container's `mountRemote`). */
  readonly mount: (remote: RemoteConfig, plugin: LoadedPlugin) => MountedRemote;
  /** Called when a remote is unmounted (its upstream client is closed). */
  readonly unmounted: (name: string) => void;
  readonly pollMs?: number;
}

/**
 * The remotes added through the API: validated like the config file's, kept in the metadata
 * store, and mounted in this process's registry without a restart. Every process converges on
 * the table's content: after each change here, on a nudge from another, and every poll.
 */
export class RuntimeRemotes {
  private readonly parser: RemoteParser;
  private readonly applied = new Map<string, number>();
  private syncing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(private readonly d: RuntimeRemotesDeps) {
    this.parser = new RemoteParser(d.config, d.plugins, d.log);
  }

  /** Mounts what the table holds, then keeps up with it. */
  async start(): Promise<void> {
    this.d.bus.subscribe((event) => { if (event.kind === 'remotes') void this.sync(); });
    await this.sync();
    this.timer = setInterval(() => { void this.sync(); }, this.d.pollMs ?? REMOTES_POLL_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  sourceOf(name: string): RemoteSource {
    return Object.hasOwn(this.d.config.remotes, name) ? 'file' : 'api';
  }

  /** Adds or replaces a runtime remote; true when it is new. */
  async put(name: string, body: unknown): Promise<boolean> {
    this.refuseFileRemote(name);
    const others = Object.fromEntries(this.d.registry.all().filter((r) => r.config.name !== name).map((r) => [r.config.name, r.config]));
    await this.parser.parse(name, body, others);
    const previous = (await this.d.store.list()).find((r) => r.name === name);
    // A replaced row must look changed to every poller, even within one millisecond.
    await this.d.store.put({ name, definition: body as Record<string, unknown>, updatedAt: Math.max(this.d.clock.now(), (previous?.updatedAt ?? 0) + 1) });
    await this.changed();
    return previous === undefined;
  }

  async delete(name: string): Promise<void> {
    this.refuseFileRemote(name);
    if (!await this.d.store.delete(name)) throw cfError('CF_ERR_REMOTE_UNKNOWN', `no runtime remote named ${JSON.stringify(name.slice(0, 64))}`);
    await this.changed();
  }

  /** Re-reads the table and mounts, replaces or unmounts to match it (one sync at a time). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.apply()).catch((err: unknown) => {
      this.d.log.warn({ err }, 'could not read the runtime remotes: keeping the ones mounted');
    });
    return this.syncing;
  }

  private async apply(): Promise<void> {
    const rows = await this.d.store.list();
    for (const row of rows) {
      if (this.sourceOf(row.name) === 'file' || this.applied.get(row.name) === row.updatedAt) continue;
      try {
        const remote = await this.parser.parse(row.name, row.definition, {});
        this.d.registry.add(this.d.mount(remote, this.parser.plugin(remote.type)!));
        this.d.log.info({ remote: row.name, type: remote.type }, 'runtime remote mounted');
      } catch (err) {
        this.d.log.warn({ remote: row.name, reason: (err as Error).message }, 'runtime remote not mounted here (its plugin is missing or its config invalid)');
      }
      this.applied.set(row.name, row.updatedAt);
    }
    const kept = new Set(rows.map((r) => r.name));
    for (const name of [...this.applied.keys()].filter((n) => !kept.has(n))) {
      this.applied.delete(name);
      this.d.registry.remove(name);
      this.d.unmounted(name);
      this.d.log.info({ remote: name }, 'runtime remote removed');
    }
  }

  private async changed(): Promise<void> {
    await this.sync();
    await this.d.bus.publish({ kind: 'remotes' }).catch((err: unknown) => {
      this.d.log.warn({ err }, `could not nudge the other replicas: they apply the change at their next poll (within ${(this.d.pollMs ?? REMOTES_POLL_MS) / 1000}s)`);
    });
  }

  private refuseFileRemote(name: string): void {
    if (this.sourceOf(name) === 'file') {
      throw cfError('CF_ERR_API_CONFLICT', `remote ${JSON.stringify(name)} comes from the config file (${this.d.config.source}): change it there; the API changes only the remotes it added`);
    }
  }
}
