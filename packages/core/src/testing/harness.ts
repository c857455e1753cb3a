import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../plugin/load-config.js';
import { createContainer } from '../container.js';
import { CacheForgeServer } from '../server/server.js';
import { createLogger } from '../util/logger.js';
import type { CacheForgeConfig } from '../config/config.js';
import { writeTestConfig, type ConfigInput } from './config.js';

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

export interface HarnessOptions {
  /** The data folder to use (a restart test passes the first run's); default a fresh temp folder. */
  readonly dataDir?: string;
  /** The log level when `config` sets none (default `CF_TEST_LOG`, else silent). */
  readonly logLevel?: NonNullable<ConfigInput['log']>['level'];
  /** Receives the JSON log lines (see `LogCapture`). */
  readonly logTo?: NodeJS.WritableStream;
}

/**
 * Starts Cache Forge in this process with `config` (a config file's content, completed by
 * `testConfig`: loopback, a free port, storage and metadata in the data folder).
 */
export async function startCacheForge(config: ConfigInput = {}, options: HarnessOptions = {}): Promise<RunningCacheForge> {
  const dataDir = options.dataDir ?? await mkdtemp(path.join(tmpdir(), 'cf-test-'));
  const withLevel = options.logLevel ? { ...config, log: { level: options.logLevel, ...config.log } } : config;
  const file = await writeTestConfig(dataDir, withLevel);
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
