import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CoreConfigInput } from '../config/schema.js';
import { UPSTREAM_DEFAULTS } from '../config/schema.js';
import type { RemoteConfig } from '../config/config.js';

/** A config file's content, typed as the core reads it (durations and sizes as `'10s'`, `'5MiB'` or numbers). */
export type ConfigInput = CoreConfigInput;

/** One remote as a config file writes it: `type`, `upstream` and the core's keys, plus the plugin's own options. */
export type RemoteInput = NonNullable<CoreConfigInput['remotes']>[string];

/**
 * The config a test runs Cache Forge with: `config` over defaults that keep everything inside
 * `dataDir` and on loopback. `server` and `log` are merged key by key; `storage` and `metadata`
 * replace the defaults whole (each picks one backend). Defaults: listen on 127.0.0.1 on a free
 * port, stop within 2s, log nothing (or `CF_TEST_LOG`'s level), blobs in `<dataDir>/blobs`,
 * SQLite in `<dataDir>/cacheforge.db` flushed every 100ms, and `@cacheforge/plugin-generic` as
 * the only plugin: a plugin's own tests name theirs in `plugins`.
 */
export function testConfig(dataDir: string, config: ConfigInput = {}): ConfigInput {
  return {
    ...config,
    server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s', ...config.server },
    log: { level: (process.env.CF_TEST_LOG ?? 'silent') as NonNullable<ConfigInput['log']>['level'], ...config.log },
    storage: config.storage ?? { filesystem: { path: path.join(dataDir, 'blobs') } },
    metadata: config.metadata ?? { sqlite: { filename: path.join(dataDir, 'cacheforge.db') }, flushInterval: '100ms' },
    plugins: config.plugins ?? ['@cacheforge/plugin-generic'],
  };
}

/** Writes {@link testConfig} to `<dataDir>/cacheforge.config.json` and returns the file's path (for `cacheforge start --config`). */
export async function writeTestConfig(dataDir: string, config: ConfigInput = {}): Promise<string> {
  const file = path.join(dataDir, 'cacheforge.config.json');
  await writeFile(file, JSON.stringify(testConfig(dataDir, config), null, 2));
  return file;
}

/**
 * A validated remote as a plugin's handler and the core's policy see it, for unit tests that need
 * one without loading a config: the core's defaults, `overrides` on top.
 */
export function remoteConfig(overrides: Partial<RemoteConfig> & Pick<RemoteConfig, 'type'>): RemoteConfig {
  return {
    name: overrides.type, upstream: new URL('http://127.0.0.1:9/'), ttl: {}, maxSize: 0, allowedHosts: [], headers: {},
    offline: false, client: UPSTREAM_DEFAULTS, options: {}, ...overrides,
  };
}
