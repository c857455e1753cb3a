import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../plugin/load-config.js';
import { createContainer, TOKENS } from '../container.js';
import type { PipelineServices } from '../pipeline/services.js';
import type { Clock } from '../util/clock.js';
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
  /**
   * Resolves once every fill under way is committed and recorded (or has failed): a request made
   * after it finds the object stored, not the fill (a test that moves a clock past a TTL waits for
   * this first, or the fill it moves past would be the one answering).
   */
  fillsSettled(): Promise<void>;
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
  /** The time the pipeline, freshness and locks read (a `ManualClock` moves TTLs without sleeping). */
  readonly clock?: Clock;
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
  const container = createContainer(loaded, plugins, log, { clock: options.clock });
  const server = new CacheForgeServer(container);
  const address = await server.start();
  let stopped = false;
  const stop = async () => { if (!stopped) { stopped = true; await server.stop('test'); } };
  return {
    url: `http://127.0.0.1:${address.port}`,
    dataDir, config: loaded, server, stop,
    async fillsSettled() {
      const { fills } = container.resolve<PipelineServices>(TOKENS.PipelineServices);
      // A retry after a mismatch registers a new fill while the first settles: until none is left.
      while (fills.size > 0) await Promise.allSettled([...fills.values()]);
      // The key lock lets go of a settled fill in the same turn: let that turn end.
      await new Promise((resolve) => setImmediate(resolve));
    },
    async cleanup() { await stop(); await rm(dataDir, { recursive: true, force: true }); },
  };
}
