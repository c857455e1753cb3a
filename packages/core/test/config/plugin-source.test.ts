import { expect } from 'chai';
import { z } from 'zod';
import { loadConfigWith } from '../../src/config/load.js';
import type { PluginSource } from '../../src/config/plugin-source.js';
import { definePlugin } from '../../src/contract/index.js';
import { cfError } from '../../src/errors/errors.js';
import { rejectsWith } from '../support/errors.js';
import { TempDir } from '../cli/run-cli.js';

const memo = definePlugin({
  name: 'memo', core: '*',
  options: (zod) => zod.object({ shelf: zod.string() }),
  createHandler: () => ({ canHandle: () => undefined, fetch: async () => { throw new Error('unused'); } }),
});

/** Plugins held in memory: what the config layer asks of the plugin layer, and nothing more. */
function inMemory(installed: string[]): PluginSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    discover: () => installed,
    load: async (specifier) => {
      asked.push(specifier);
      if (specifier !== 'memo') throw cfError('CF_ERR_PLUGIN_NOT_FOUND', `no plugin ${specifier}`);
      return { specifier, url: 'memory:memo', plugin: memo as never, options: memo.options!(z) };
    },
  };
}

describe('config: plugins come from a PluginSource the plugin layer implements', () => {
  let dir: TempDir;
  before(async () => { dir = await TempDir.create('cf-plugin-source-'); });
  after(async () => { await dir.remove(); });

  it('loads the plugins a config names from the source and validates their remotes with their schemas', async () => {
    await dir.write('a/cacheforge.config.json', { plugins: ['memo'], remotes: { m: { type: 'memo', upstream: 'https://example.com/', shelf: 'top' } } });
    const source = inMemory([]);
    const { config, plugins } = await loadConfigWith(source, { configPath: dir.join('a/cacheforge.config.json'), env: {} });
    expect(source.asked).to.deep.equal(['memo']);
    expect([...plugins.keys()]).to.deep.equal(['memo']);
    expect(config.remotes.m!.options).to.deep.equal({ shelf: 'top' });
  });

  it('asks the source what is installed when the config names no plugins, and reports a failing one at its entry', async () => {
    await dir.write('b/cacheforge.config.json', { remotes: {} });
    const source = inMemory(['memo', 'ghost']);
    const err = await rejectsWith(loadConfigWith(source, { configPath: dir.join('b/cacheforge.config.json'), env: {} }), 'CF_ERR_CONFIG_INVALID');
    expect(source.asked).to.deep.equal(['memo', 'ghost']);
    expect(err.message).to.contain('plugins[1]: CF_ERR_PLUGIN_NOT_FOUND: no plugin ghost');
  });
});
