import type { FormatPlugin, Handler, Pipeline, RemoteDefinition } from '../contract/index.js';
import type { RemoteConfig } from '../config/config.js';

/** One remote as the server dispatches to it: its config, format, handler and pipeline. */
export interface MountedRemote {
  readonly config: RemoteConfig;
  /** The remote as its plugin sees it. */
  readonly definition: RemoteDefinition<Record<string, unknown>>;
  readonly plugin: FormatPlugin<Record<string, unknown>>;
  readonly handler: Handler;
  readonly pipeline: Pipeline;
}

/** The remotes this process serves, by name (the first path segment). */
export class RemoteRegistry {
  private readonly remotes = new Map<string, MountedRemote>();

  add(remote: MountedRemote): void {
    this.remotes.set(remote.config.name, remote);
  }

  /** Unmounts a runtime remote (its in-flight requests finish with the pipeline they hold). */
  remove(name: string): boolean {
    return this.remotes.delete(name);
  }

  get(name: string): MountedRemote | undefined {
    return this.remotes.get(name);
  }

  all(): MountedRemote[] {
    return [...this.remotes.values()];
  }
}
