import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/plugin/load-config.js';
import { createContainer } from '../../src/container.js';
import { CacheForgeServer } from '../../src/server/server.js';
import { createLogger } from '../../src/util/logger.js';
import type { CacheForgeConfig } from '../../src/config/config.js';

/** A Cache Forge running in this process on 127.0.0.1, with its data in a temp folder. */
export interface RunningCacheForge {
  readonly url: string;
  readonly dataDir: string;
  readonly config: CacheForgeConfig;
  readonly server: CacheForgeServer;
  /** Stops the server; the data folder stays (for restart tests) unless `cleanup` is called. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Starts Cache Forge with `config` (a config file's content; storage and metadata default to a
 * fresh temp folder, or `dataDir` to reuse one). `logTo` receives the JSON log lines (with `logLevel`).
 */
export async function startCacheForge(config: Record<string, unknown>, options: { dataDir?: string; logLevel?: string; logTo?: NodeJS.WritableStream } = {}): Promise<RunningCacheForge> {
  const dataDir = options.dataDir ?? await mkdtemp(path.join(tmpdir(), 'cf-test-'));
  const file = path.join(dataDir, 'cacheforge.config.json');
  const full = {
    server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s' },
    log: { level: options.logLevel ?? process.env.CF_TEST_LOG ?? 'silent' },
    storage: { filesystem: { path: path.join(dataDir, 'blobs') } },
    metadata: { sqlite: { filename: path.join(dataDir, 'cacheforge.db') }, flushInterval: '100ms' },
    plugins: ['@cacheforge/plugin-generic'],
    ...config,
  };
  await writeFile(file, JSON.stringify(full, null, 2));
  const { config: loaded, plugins } = await loadConfig({ configPath: file });
  const log = createLogger(loaded.log.level, options.logTo);
  const server = new CacheForgeServer(createContainer(loaded, plugins, log));
  const address = await server.start();
  let stopped = false;
  const stop = async () => { if (!stopped) { stopped = true; await server.stop('test'); } };
  return {
    url: `http://127.0.0.1:${address.port}`,
    dataDir, config: loaded, server, stop,
    async cleanup() { await stop(); await rm(dataDir, { recursive: true, force: true }); },
  };
}
