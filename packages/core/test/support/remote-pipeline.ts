import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { loadConfig } from '../../src/plugin/load-config.js';
import { createContainer, TOKENS } from '../../src/container.js';
import { createLogger } from '../../src/util/logger.js';
import type { RemoteRegistry } from '../../src/plugin/remote-registry.js';
import type { Storage } from '../../src/storage/storage.js';
import type { MetadataStore } from '../../src/metadata/metadata.js';
import type { Pipeline } from '../../src/contract/index.js';

/** The pipeline of one generic remote, built by the real container on a temp folder (no server). */
export interface RemotePipelineHarness {
  readonly pipeline: Pipeline;
  readonly container: DependencyContainer;
  close(): Promise<void>;
}

export async function genericRemotePipeline(remote: string, upstreamUrl: string): Promise<RemotePipelineHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), `cf-${remote}-`));
  const file = path.join(dir, 'cacheforge.config.json');
  await writeFile(file, JSON.stringify({
    storage: { filesystem: { path: path.join(dir, 'blobs') } }, metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
    plugins: ['@cacheforge/plugin-generic'], remotes: { [remote]: { type: 'generic', upstream: upstreamUrl, client: { retries: 0 } } },
  }));
  const { config, plugins } = await loadConfig({ configPath: file });
  const container = createContainer(config, plugins, createLogger('silent'));
  await container.resolve<Storage>(TOKENS.Storage).init();
  await container.resolve<MetadataStore>(TOKENS.Metadata).init();
  return {
    container,
    pipeline: container.resolve<RemoteRegistry>(TOKENS.Registry).get(remote)!.pipeline,
    async close() {
      await container.resolve<MetadataStore>(TOKENS.Metadata).close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
