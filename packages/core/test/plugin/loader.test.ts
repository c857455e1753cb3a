import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPlugin, checkContract } from '../../src/plugin/loader.js';
import { resolvePlugin, discoverInstalledPlugins, isPathSpecifier } from '../../src/plugin/resolve.js';
import { CORE_VERSION } from '../../src/version.js';
import { TempDir } from '../cli/run-cli.js';
import { minimalPlugin, pluginModule, ECHO_PLUGIN, ECHO_PACKAGE_JSON, GREET_PLUGIN } from './fixtures.js';
import { rejectsWith } from '../support/errors.js';

describe('plugin loader: resolving and checking the contract', () => {
  let dir: TempDir;
  let n = 0;

  before(async () => { dir = await TempDir.create('cf-plugin-loader-'); });
  after(async () => { await dir.remove(); });

  /** Writes a plugin module under a fresh name (import() caches by URL) and returns its path. */
  const plugin = (source: string) => dir.write(`plugins/p${++n}.mjs`, source);
  const load = (specifier: string) => loadPlugin(specifier, dir.path, [dir.path]);

  it('reads the core version from packages/core/package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CORE_VERSION).to.equal(manifest.version);
  });

  describe('finding the module', () => {
    it('loads a plain .mjs plugin by absolute path and by a path relative to the base folder', async () => {
      const file = await plugin(GREET_PLUGIN);
      const byAbsolute = await load(file);
      expect(byAbsolute.plugin.name).to.equal('greet');
      expect(byAbsolute.url).to.equal(pathToFileURL(file).href);
      expect(byAbsolute.specifier).to.equal(file);
      const relative = `./${path.relative(dir.path, file)}`;
      const byRelative = await load(relative);
      expect(byRelative.plugin.name).to.equal('greet');
      expect(byRelative.specifier).to.equal(relative);
    });

    it('builds the options schema with the zod it hands the plugin', async () => {
      const loaded = await load(await plugin(GREET_PLUGIN));
      expect(loaded.options!.safeParse({ greeting: 'Hi' }).data).to.deep.equal({ greeting: 'Hi', punctuation: '!' });
      expect(loaded.options!.safeParse({}).success).to.equal(false);
    });

    it('loads a package folder through its package.json exports, not main', async () => {
      await dir.write('echo-pkg/package.json', ECHO_PACKAGE_JSON);
      await dir.write('echo-pkg/lib/plugin.js', ECHO_PLUGIN);
      const loaded = await load('./echo-pkg');
      expect(loaded.plugin.name).to.equal('echo');
      expect(loaded.url).to.equal(pathToFileURL(dir.join('echo-pkg/lib/plugin.js')).href);
    });

    it('loads a package folder through main, or index.js without a package.json', async () => {
      await dir.write('main-pkg/package.json', { name: 'main-pkg', type: 'module', main: 'src/entry.js' });
      await dir.write('main-pkg/src/entry.js', minimalPlugin('viamain'));
      expect((await load('./main-pkg')).plugin.name).to.equal('viamain');
      await dir.write('bare-folder/index.js', minimalPlugin('viaindex'));
      await dir.write('bare-folder/package.json', { type: 'module' });
      expect((await load('./bare-folder')).plugin.name).to.equal('viaindex');
    });

    it('finds a package name installed beside the config when the core cannot resolve it', async () => {
      await dir.write('project/node_modules/cacheforge-plugin-local/package.json', { name: 'cacheforge-plugin-local', type: 'module', exports: './plugin.js' });
      await dir.write('project/node_modules/cacheforge-plugin-local/plugin.js', minimalPlugin('local'));
      const loaded = await loadPlugin('cacheforge-plugin-local', dir.join('project', 'conf'), [dir.join('project', 'conf')]);
      expect(loaded.plugin.name).to.equal('local');
      expect(loaded.url).to.equal(pathToFileURL(dir.join('project/node_modules/cacheforge-plugin-local/plugin.js')).href);
    });

    it('resolves a workspace plugin by package name from the core', async () => {
      const url = resolvePlugin('@cacheforge/plugin-generic', dir.path, [dir.path]);
      expect(url).to.match(/\/packages\/plugin-generic\/src\/index\.ts$/);
    });

    it('tells paths from package names', () => {
      expect(['./p.mjs', '../p', '/abs/p.mjs'].map(isPathSpecifier)).to.deep.equal([true, true, true]);
      expect(['cacheforge-plugin-x', '@cacheforge/plugin-npm'].map(isPathSpecifier)).to.deep.equal([false, false]);
    });
  });

  it('does not take option names inherited from Object.prototype for core remote keys', async () => {
    const loaded = await load(await plugin(minimalPlugin('protoname', 'options: (z) => z.object({ toString: z.string().optional() }),')));
    expect(Object.keys(loaded.options!.shape)).to.deep.equal(['toString']);
  });

  describe('CF_ERR_PLUGIN_NOT_FOUND', () => {
    it('names a path that does not exist', async () => {
      const err = await rejectsWith(load('./nowhere/plugin.mjs'), 'CF_ERR_PLUGIN_NOT_FOUND');
      expect(err.message).to.equal(`plugin path ${dir.join('nowhere/plugin.mjs')} does not exist`);
      expect(err.detail).to.deep.equal({ plugin: './nowhere/plugin.mjs' });
    });

    it('names a package that is not installed and how to install it', async () => {
      const err = await rejectsWith(load('cacheforge-plugin-absent'), 'CF_ERR_PLUGIN_NOT_FOUND');
      expect(err.message).to.include('plugin package "cacheforge-plugin-absent" is not installed');
      expect(err.message).to.include('`pnpm add cacheforge-plugin-absent`');
    });
  });

  describe('CF_ERR_PLUGIN_CONTRACT', () => {
    const cases: [string, string, RegExp][] = [
      ['no default export', 'export const plugin = {};\n', /has no default export object/],
      ['a default export that is a function', 'export default function plugin() {}\n', /has no default export object/],
      ['no name', pluginModule(`{ core: '^0.1.0', createHandler() {} }`), /has an invalid name undefined/],
      ['an upper-case name', pluginModule(`{ name: 'Generic', core: '^0.1.0', createHandler() {} }`), /has an invalid name "Generic"/],
      ['no createHandler', pluginModule(`{ name: 'nohandler', core: '^0.1.0' }`), /has no createHandler function/],
      ['options that are not a function', minimalPlugin('objopts', 'options: { greeting: "x" },'), /has options that are not a function/],
      ['no core range', pluginModule(`{ name: 'nocore', createHandler() {} }`), /declares no valid core version range \(core: undefined\)/],
      ['a core range that is not semver', minimalPlugin('badrange').replace(`'^0.1.0'`, `'banana'`), /declares no valid core version range \(core: "banana"\)/],
      ['an invalid class pattern', minimalPlugin('badclass', `classes: { immutable: ['(unclosed'] },`), /has an invalid immutable pattern "\(unclosed"/],
      ['options(z) that is not a z.object', minimalPlugin('stropts', 'options: (z) => z.string(),'), /options\(z\) must return z\.object/],
      ['options(z) that returns a plain object', minimalPlugin('plainopts', 'options: () => ({ shape: {} }),'), /options\(z\) must return z\.object/],
      ['options(z) that throws', minimalPlugin('throwopts', `options: () => { throw new Error('boom'); },`), /options\(z\) threw: boom/],
      ['options that reuse the core remote keys', minimalPlugin('clash', 'options: (z) => z.object({ upstream: z.string(), include: z.string(), greeting: z.string() }),'),
        /options reuse the core's remote keys upstream, include/],
      ['a module that fails to import', 'export default {\n', /failed to load: /],
    ];
    for (const [what, source, message] of cases) {
      it(`refuses a plugin with ${what}, naming it`, async () => {
        const file = await plugin(source);
        const err = await rejectsWith(load(file), 'CF_ERR_PLUGIN_CONTRACT');
        expect(err.message).to.include(`plugin "${file}"`);
        expect(err.message).to.match(message);
      });
    }

    it('refuses a package folder with an unreadable package.json', async () => {
      await dir.write('broken-pkg/package.json', '{ "name": ');
      const err = await rejectsWith(load('./broken-pkg'), 'CF_ERR_PLUGIN_CONTRACT');
      expect(err.message).to.match(/^plugin "\.\/broken-pkg" has an unreadable package\.json/);
    });
  });

  describe('CF_ERR_PLUGIN_VERSION_MISMATCH', () => {
    for (const range of ['^0.2.0', '>=1.0.0', '0.0.x']) {
      it(`refuses a plugin made for core ${range}, naming the range and this version`, async () => {
        const file = await plugin(minimalPlugin('future').replace(`'^0.1.0'`, JSON.stringify(range)));
        const err = await rejectsWith(load(file), 'CF_ERR_PLUGIN_VERSION_MISMATCH');
        expect(err.message).to.equal(
          `plugin "${file}" supports @cacheforge/core ${range}, but this is ${CORE_VERSION}; install a version of the plugin made for it`);
        expect(err.detail).to.deep.equal({ plugin: file, supports: range, core: CORE_VERSION });
      });
    }

    for (const range of ['^0.1.0', '0.1.x', '>=0.1.0 <1', '*']) {
      it(`accepts a plugin made for core ${range}`, async () => {
        const loaded = await load(await plugin(minimalPlugin('fits').replace(`'^0.1.0'`, JSON.stringify(range))));
        expect(loaded.plugin.core).to.equal(range);
      });
    }
  });

  describe('checkContract on values', () => {
    it('accepts a minimal plugin object and returns it as is', () => {
      const candidate = { name: 'ok', core: '^0.1.0', createHandler: () => ({ canHandle: () => undefined, fetch: async () => { throw new Error('x'); } }) };
      expect(checkContract(candidate, 'inline')).to.equal(candidate);
    });

    it('refuses null and strings', () => {
      for (const candidate of [null, undefined, 'generic', 42]) {
        expect(() => checkContract(candidate, 'inline')).to.throw(/plugin "inline" has no default export object/);
      }
    });
  });

  describe('discovering installed first-party plugins (the embedded defaults)', () => {
    it('lists @cacheforge/plugin-* in node_modules of the folder and its parents, and nothing else', async () => {
      await dir.write('tree/node_modules/@cacheforge/plugin-alpha/package.json', { name: '@cacheforge/plugin-alpha' });
      await dir.write('tree/node_modules/@cacheforge/core/package.json', { name: '@cacheforge/core' });
      await dir.write('tree/node_modules/cacheforge-plugin-third/package.json', { name: 'cacheforge-plugin-third' });
      await dir.write('tree/app/node_modules/@cacheforge/plugin-beta/package.json', { name: '@cacheforge/plugin-beta' });
      await dir.write('tree/app/sub/.keep', '');
      // A linked package counts too (pnpm installs links).
      await symlink(dir.join('tree/node_modules/@cacheforge/plugin-alpha'), dir.join('tree/app/node_modules/@cacheforge/plugin-gamma'));
      expect(discoverInstalledPlugins([dir.join('tree/app/sub')])).to.deep.equal([
        '@cacheforge/plugin-alpha', '@cacheforge/plugin-beta', '@cacheforge/plugin-gamma',
      ]);
      expect(discoverInstalledPlugins([dir.join('tree')])).to.deep.equal(['@cacheforge/plugin-alpha']);
    });

    it('finds nothing in a folder outside the workspace', async () => {
      const empty = await dir.write('lonely/.keep', '');
      expect(discoverInstalledPlugins([path.dirname(empty)])).to.deep.equal([]);
    });
  });
});
