import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rejectsWith } from '../support/errors.js';
import { loadConfig } from '../../src/plugin/load-config.js';
import { checkContract } from '../../src/plugin/loader.js';
import { minimalPlugin } from './fixtures.js';

/**
 * The `mirror` format: each remote may claim a `slot`; two remotes claiming one slot is a problem
 * of the second. A `slot` of 'boom' makes the check itself throw.
 */
const MIRROR_PLUGIN = minimalPlugin('mirror', `
  options: (z) => z.object({ slot: z.string().optional() }),
  checkRemotes(remotes) {
    if (remotes.some((r) => r.options.slot === 'boom')) throw new Error('slot table unreadable');
    const owner = new Map();
    const problems = [];
    for (const r of remotes) {
      if (!r.options.slot) continue;
      if (owner.has(r.options.slot)) problems.push({ remote: r.name, key: 'slot', message: 'slot ' + r.options.slot + ' is taken by ' + owner.get(r.options.slot) });
      else owner.set(r.options.slot, r.name);
    }
    return problems;
  },`);

describe('plugin: checks across all of a format\'s remotes (checkRemotes)', () => {
  let dir: string;
  let pluginFile: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-check-remotes-'));
    pluginFile = path.join(dir, 'mirror-plugin.mjs');
    await writeFile(pluginFile, MIRROR_PLUGIN);
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const write = async (remotes: Record<string, Record<string, unknown>>) => {
    const file = path.join(dir, `conf-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify({ plugins: [pluginFile], remotes }));
    return file;
  };
  const remote = (slot?: string) => ({ type: 'mirror', upstream: 'http://127.0.0.1:1/', ...(slot ? { slot } : {}) });

  it('accepts remotes the check finds nothing wrong with', async () => {
    const loaded = await loadConfig({ configPath: await write({ a: remote('x'), b: remote('y'), c: remote() }), env: {} });
    expect(Object.keys(loaded.config.remotes)).to.have.members(['a', 'b', 'c']);
  });

  it('reports each problem at remotes.<name>.<key> in the file, with the other problems of the file', async () => {
    const file = await write({ a: remote('x'), b: remote('x'), c: { type: 'mirror' } });
    const err = await rejectsWith(loadConfig({ configPath: file, env: {} }), 'CF_ERR_CONFIG_INVALID');
    expect(err.message).to.include(file).and.to.include('remotes.b.slot: slot x is taken by a');
    expect(err.message).to.include('remotes.c.upstream');
    expect(err.message).to.not.include('remotes.a.slot');
  });

  it('reports a check that throws as a plugin failure instead of crashing the start', async () => {
    const err = await rejectsWith(loadConfig({ configPath: await write({ a: remote('boom') }), env: {} }), 'CF_ERR_CONFIG_INVALID');
    expect(err.message).to.include('CF_ERR_PLUGIN_FAILED').and.to.include('checkRemotes() threw: slot table unreadable');
  });

  it('refuses a plugin whose checkRemotes is not a function', () => {
    const base = { name: 'bad', core: '^0.1.0', createHandler() { return {} as never; } };
    expect(() => checkContract({ ...base, checkRemotes: [] }, 'bad')).to.throw(/checkRemotes/);
  });
});
