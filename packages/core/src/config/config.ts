import type { ParsedCoreConfig, UpstreamSettings } from './schema.js';

/** One remote after validation: the core's keys resolved, the plugin's options apart. */
export interface RemoteConfig {
  readonly name: string;
  readonly type: string;
  readonly upstream: URL;
  readonly include?: readonly RegExp[];
  readonly exclude?: readonly RegExp[];
  readonly immutable?: readonly RegExp[];
  readonly mutable?: readonly RegExp[];
  /** Milliseconds; absent = the plugin's default. */
  readonly ttl: { readonly mutable?: number; readonly negative?: number };
  /** Bytes; 0 = no limit. */
  readonly maxSize: number;
  readonly allowedHosts: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly client: UpstreamSettings;
  /** Serve only what is stored; the upstream is never asked. */
  readonly offline: boolean;
  /** The plugin's own options, validated by its schema. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** The validated, frozen configuration the process runs with (injected as the CONFIG token). */
export interface CacheForgeConfig extends Omit<ParsedCoreConfig, 'remotes' | 'plugins' | 'upstream'> {
  /** Where it came from: a file path, or `embedded defaults`. */
  readonly source: string;
  readonly upstream: UpstreamSettings;
  readonly plugins: readonly string[];
  readonly remotes: Readonly<Record<string, RemoteConfig>>;
  /** Dotted key paths whose values came from the environment (masked in output). */
  readonly secretPaths: ReadonlySet<string>;
}
