import { expect } from 'chai';
import { EMBEDDED_DEFAULTS, SEARCH_PLACES, type LoadOptions } from '../../src/config/load.js';
import { loadConfig } from '../../src/plugin/load-config.js';
import type { CacheForgeError } from '../../src/errors/errors.js';
import { TempDir } from '../cli/run-cli.js';
import { minimalPlugin, pluginModule, GREET_PLUGIN } from '../plugin/fixtures.js';
import { rejectsWith } from '../support/errors.js';

/** The `  - path: message` lines of a CF_ERR_CONFIG_INVALID, as a map. */
function problemsOf(err: CacheForgeError): Record<string, string> {
  const list = (err.detail as { problems: { path: string; message: string }[] }).problems;
  return Object.fromEntries(list.map((p) => [p.path, p.message]));
}

describe('config: finding, reading and validating', () => {
  let dir: TempDir;
  let n = 0;

  before(async () => { dir = await TempDir.create('cf-config-load-'); });
  after(async () => { await dir.remove(); });

  /**
   * A fresh project folder (a package.json marks it as the project root, so a search never leaves
   * it) with the given files.
   */
  async function project(files: Record<string, string | object> = {}): Promise<string> {
    const root = `p${++n}`;
    await dir.write(`${root}/package.json`, { name: `project-${n}`, private: true });
    for (const [file, content] of Object.entries(files)) await dir.write(`${root}/${file}`, content);
    return dir.join(root);
  }
  const load = (options: LoadOptions) => loadConfig({ env: {}, ...options });

  describe('discovery (cosmiconfig module name "cacheforge")', () => {
    const forms: [string, string | object][] = [
      ['cacheforge.config.yaml', 'server:\n  port: 8101\n'],
      ['cacheforge.config.yml', 'server:\n  port: 8102\n'],
      ['cacheforge.config.json', { server: { port: 8103 } }],
      ['cacheforge.config.js', 'module.exports = { server: { port: 8104 } };\n'],
      ['cacheforge.config.mjs', 'export default { server: { port: 8105 } };\n'],
      ['cacheforge.config.cjs', 'module.exports = { server: { port: 8106 } };\n'],
      ['.cacheforgerc', 'server:\n  port: 8107\n'],
      ['.cacheforgerc.json', '{ "server": { "port": 8108 } }'],
      ['.cacheforgerc.yaml', 'server:\n  port: 8109\n'],
      ['.cacheforgerc.yml', 'server:\n  port: 8110\n'],
      ['.cacheforgerc.mjs', 'export default { server: { port: 8111 } };\n'],
    ];
    for (const [file, content] of forms) {
      it(`finds ${file} in the working directory`, async () => {
        const cwd = await project({ [file]: content });
        const { config } = await load({ cwd });
        expect(config.source).to.equal(`${cwd}/${file}`);
        expect(config.server.port).to.equal(8101 + forms.findIndex(([f]) => f === file));
      });
    }

    it('searches every documented place', () => {
      expect(SEARCH_PLACES).to.include.members(forms.map(([f]) => f).concat('package.json'));
    });

    it('finds a "cacheforge" key in package.json', async () => {
      const cwd = dir.join(`pkg${++n}`);
      await dir.write(`pkg${n}/package.json`, { name: 'app', cacheforge: { server: { port: 8120 } } });
      const { config } = await load({ cwd });
      expect(config.source).to.equal(`${cwd}/package.json`);
      expect(config.server.port).to.equal(8120);
    });

    it('prefers cacheforge.config.yaml to a package.json key in the same folder', async () => {
      const cwd = dir.join(`pkg${++n}`);
      await dir.write(`pkg${n}/package.json`, { name: 'app', cacheforge: { server: { port: 8121 } } });
      await dir.write(`pkg${n}/cacheforge.config.yaml`, 'server:\n  port: 8122\n');
      expect((await load({ cwd })).config.server.port).to.equal(8122);
    });

    it('searches from a subfolder up to the project root, and not beyond it', async () => {
      const root = await project({ 'cacheforge.config.yaml': 'server:\n  port: 8123\n', 'src/deep/.keep': '' });
      const found = await load({ cwd: `${root}/src/deep` });
      expect(found.config.source).to.equal(`${root}/cacheforge.config.yaml`);
      // A nested package is its own project: the parent's config is not its config.
      await dir.write(`p${n}/packages/lib/package.json`, { name: 'lib' });
      const nested = await load({ cwd: `${root}/packages/lib` });
      expect(nested.config.source).to.equal(EMBEDDED_DEFAULTS);
    });

    it('takes --config over CACHEFORGE_CONFIG, and CACHEFORGE_CONFIG over the search', async () => {
      const cwd = await project({
        'cacheforge.config.yaml': 'server:\n  port: 8130\n',
        'env.yaml': 'server:\n  port: 8131\n',
        'flag.json': { server: { port: 8132 } },
      });
      expect((await load({ cwd })).config.server.port).to.equal(8130);
      const byEnv = await load({ cwd, env: { CACHEFORGE_CONFIG: 'env.yaml' } });
      expect(byEnv.config.source).to.equal(`${cwd}/env.yaml`);
      expect(byEnv.config.server.port).to.equal(8131);
      const byFlag = await load({ cwd, configPath: 'flag.json', env: { CACHEFORGE_CONFIG: 'env.yaml' } });
      expect(byFlag.config.source).to.equal(`${cwd}/flag.json`);
      expect(byFlag.config.server.port).to.equal(8132);
    });

    it('reads a --config file of any supported name, e.g. prod.yml or settings.mjs', async () => {
      const cwd = await project({ 'conf/prod.yml': 'server:\n  port: 8133\n', 'conf/settings.mjs': 'export default { server: { port: 8134 } };\n' });
      expect((await load({ cwd, configPath: 'conf/prod.yml' })).config.server.port).to.equal(8133);
      expect((await load({ cwd, configPath: `${cwd}/conf/settings.mjs` })).config.server.port).to.equal(8134);
    });

    it('refuses a --config or CACHEFORGE_CONFIG file that does not exist (CF_ERR_CONFIG_NOT_FOUND)', async () => {
      const cwd = await project();
      const err = await rejectsWith(load({ cwd, configPath: 'nope.yaml' }), 'CF_ERR_CONFIG_NOT_FOUND');
      expect(err.message).to.equal(`config file ${cwd}/nope.yaml does not exist`);
      await rejectsWith(load({ cwd, env: { CACHEFORGE_CONFIG: `${cwd}/gone.json` } }), 'CF_ERR_CONFIG_NOT_FOUND');
    });

    it('names the file a search found but could not parse (CF_ERR_CONFIG_UNREADABLE)', async () => {
      const cwd = await project({ '.cacheforgerc.json': '{ "server": ' });
      const err = await rejectsWith(load({ cwd }), 'CF_ERR_CONFIG_UNREADABLE');
      expect(err.message).to.match(new RegExp(`^config file ${cwd}/\\.cacheforgerc\\.json cannot be parsed: JSON Error`));
      expect(err.detail).to.deep.equal({ file: `${cwd}/.cacheforgerc.json` });
    });

    it('names a config module that throws', async () => {
      const cwd = await project({ 'cacheforge.config.mjs': 'throw new Error("no config for you");\n' });
      const err = await rejectsWith(load({ cwd }), 'CF_ERR_CONFIG_UNREADABLE');
      expect(err.message).to.include(`${cwd}/cacheforge.config.mjs`);
      expect(err.message).to.include('no config for you');
    });
  });

  describe('the embedded defaults (no config anywhere)', () => {
    it('runs on port 8080 with filesystem storage and SQLite metadata under ./data', async () => {
      const cwd = await project();
      const { config, plugins } = await load({ cwd });
      expect(config.source).to.equal(EMBEDDED_DEFAULTS);
      expect(config.server).to.deep.equal({ host: '0.0.0.0', port: 8080, trustProxy: false, headersTimeout: 20_000, maxConnectionsPerClient: 256, shutdownTimeout: 30_000, offline: false, workers: 1 });
      expect(config.storage).to.deep.equal({ filesystem: { path: './data/blobs' } });
      expect(config.metadata).to.deep.equal({ sqlite: { filename: './data/cacheforge.db' }, flushInterval: 5000 });
      expect(config.log).to.deep.equal({ level: 'info', requests: true });
      expect(config.upstream).to.deep.equal({ connectTimeout: 10_000, responseTimeout: 15_000, firstByteTimeout: 30_000, idleTimeout: 60_000, retries: 2, maxSockets: 64, verifyBeforeSend: 16 * 1024 * 1024, downAfter: 3 });
      // Outside the workspace no @cacheforge/plugin-* is installed.
      expect(config.plugins).to.deep.equal([]);
      expect(plugins.size).to.equal(0);
      expect(config.remotes).to.deep.equal({});
    });

    it('loads every installed @cacheforge/plugin-* with the remotes it declares', async () => {
      const cwd = await project({
        'node_modules/@cacheforge/plugin-fake/package.json': { name: '@cacheforge/plugin-fake', type: 'module', exports: './index.js' },
        'node_modules/@cacheforge/plugin-fake/index.js': minimalPlugin('fake', `
          options: (z) => z.object({ flavour: z.string().default('plain') }),
          defaultRemotes: ({ env }) => ({ fake: { upstream: env.FAKE_UPSTREAM ?? 'https://fake.example/' } }),`),
      });
      const { config, plugins } = await load({ cwd, env: { FAKE_UPSTREAM: 'https://mirror.example/fake' } });
      expect(config.source).to.equal(EMBEDDED_DEFAULTS);
      expect(config.plugins).to.deep.equal(['@cacheforge/plugin-fake']);
      expect([...plugins.keys()]).to.deep.equal(['fake']);
      expect(Object.keys(config.remotes)).to.deep.equal(['fake']);
      expect(config.remotes.fake!.type).to.equal('fake');
      expect(config.remotes.fake!.upstream.href).to.equal('https://mirror.example/fake/');
      expect(config.remotes.fake!.options).to.deep.equal({ flavour: 'plain' });
    });

    it('stops with a coded problem when a plugin\'s defaultRemotes() throws', async () => {
      const cwd = await project({
        'node_modules/@cacheforge/plugin-broken/package.json': { name: '@cacheforge/plugin-broken', type: 'module', exports: './index.js' },
        'node_modules/@cacheforge/plugin-broken/index.js': minimalPlugin('broken', 'defaultRemotes() { throw new Error("no registry configured"); },'),
      });
      const err = await rejectsWith(load({ cwd }), 'CF_ERR_CONFIG_INVALID');
      expect(problemsOf(err)).to.deep.equal({
        'plugins[0]': 'CF_ERR_PLUGIN_FAILED: plugin "@cacheforge/plugin-broken": defaultRemotes() threw: no registry configured',
      });
    });
  });

  describe('${VAR} interpolation', () => {
    it('puts environment values into any string, with defaults, and remembers which keys were secret', async () => {
      const cwd = await project({
        'greet.mjs': GREET_PLUGIN,
        'cacheforge.config.yaml': [
          'plugins: [./greet.mjs]',
          'storage:',
          '  filesystem:',
          '    path: ${CF_DATA:-/var/lib/cacheforge}/blobs',
          'remotes:',
          '  hi:',
          '    type: greet',
          '    upstream: https://${CF_HOST}/base',
          '    greeting: ${CF_GREETING}',
          '    headers:',
          '      Authorization: Bearer ${CF_TOKEN}',
          '    include: ["^files/$${literal}"]',
        ].join('\n'),
      });
      const { config } = await load({ cwd, env: { CF_HOST: 'up.example', CF_GREETING: 'Hello', CF_TOKEN: 's3cr3t' } });
      expect(config.storage.filesystem!.path).to.equal('/var/lib/cacheforge/blobs');
      const hi = config.remotes.hi!;
      expect(hi.upstream.href).to.equal('https://up.example/base/');
      expect(hi.options).to.deep.equal({ greeting: 'Hello', punctuation: '!' });
      expect(hi.headers).to.deep.equal({ authorization: 'Bearer s3cr3t' });
      expect(hi.include!.map((r) => r.source)).to.deep.equal(['^files\\/${literal}']);
      expect([...config.secretPaths].sort()).to.deep.equal(['remotes.hi.greeting', 'remotes.hi.headers.Authorization', 'remotes.hi.upstream']);
    });

    it('names every key whose variable is unset, and nothing else about those keys', async () => {
      const cwd = await project({
        'cacheforge.config.json': {
          plugins: ['@cacheforge/plugin-generic'],
          remotes: { files: { type: 'generic', upstream: '${CF_UPSTREAM}', headers: { 'x-key': '${CF_KEY}' } } },
        },
      });
      const err = await rejectsWith(load({ cwd, env: { CF_KEY: '' } }), 'CF_ERR_CONFIG_INVALID');
      expect(err.message).to.match(new RegExp(`^invalid configuration in ${cwd}/cacheforge\\.config\\.json \\(2 problems\\):\\n`));
      expect(problemsOf(err)).to.deep.equal({
        'remotes.files.upstream': 'environment variable CF_UPSTREAM is not set (and no ${CF_UPSTREAM:-default} given)',
        'remotes.files.headers.x-key': 'environment variable CF_KEY is empty (and no ${CF_KEY:-default} given)',
      });
    });
  });

  describe('secrets in problems', () => {
    it('never quotes a value from the environment in a problem about its key', async () => {
      const cwd = await project({
        'cacheforge.config.yaml': [
          'plugins: ["@cacheforge/plugin-generic"]',
          'remotes:',
          '  files:',
          '    type: generic',
          '    upstream: ${CF_URL}',
          '    ttl: { mutable: "${CF_TTL}" }',
          '    include: ["${CF_PATTERN}"]',
          '    maxSize: lots',
        ].join('\n'),
      });
      const env = { CF_URL: 'builder:pa"ss-1234@up.example/x', CF_TTL: 'ttl-secret-5678', CF_PATTERN: '(secret-pattern-90' };
      const err = await rejectsWith(load({ cwd, env }), 'CF_ERR_CONFIG_INVALID');
      expect(problemsOf(err)).to.deep.equal({
        'remotes.files.upstream': 'expected an http or https URL; got a value from the environment (not shown)',
        'remotes.files.ttl.mutable': 'expected a duration such as 30s, 10m, 1h or 7d; got a value from the environment (not shown)',
        'remotes.files.include[0]': 'invalid regular expression: Invalid regular expression: /***/: Unterminated group',
        // Not from the environment: quoted as written.
        'remotes.files.maxSize': 'expected a size such as 512, 64KiB or 2GiB, got "lots"',
      });
      for (const secret of ['builder', 'pa"ss-1234', 'pa\\"ss-1234', 'ttl-secret-5678', 'secret-pattern-90']) expect(err.message).not.to.include(secret);
    });
  });

  describe('the validated config', () => {
    it('is deep-frozen, and --port overrides the file\'s port', async () => {
      const cwd = await project({ 'cacheforge.config.yaml': 'server:\n  port: 8150\n  host: 127.0.0.1\n' });
      const { config } = await load({ cwd, port: 0 });
      expect(config.server.port).to.equal(0);
      expect(config.server.host).to.equal('127.0.0.1');
      expect(Object.isFrozen(config)).to.equal(true);
      expect(Object.isFrozen(config.server)).to.equal(true);
      expect(Object.isFrozen(config.upstream)).to.equal(true);
      expect(() => { (config.server as { port: number }).port = 1; }).to.throw(TypeError);
    });

    it('resolves a plugin path against the config file\'s folder, not the working directory', async () => {
      const root = await project({
        'conf/plugins/greet.mjs': GREET_PLUGIN,
        'conf/cacheforge.config.yaml': 'plugins: [./plugins/greet.mjs]\nremotes:\n  hi: { type: greet, upstream: "https://x.example/", greeting: Hey }\n',
      });
      const { config, plugins } = await load({ cwd: root, configPath: 'conf/cacheforge.config.yaml' });
      expect(plugins.get('greet')!.specifier).to.equal('./plugins/greet.mjs');
      expect(config.remotes.hi!.options).to.deep.equal({ greeting: 'Hey', punctuation: '!' });
    });

    it('merges the remote client settings over the top-level upstream block over the defaults', async () => {
      const cwd = await project({
        'cacheforge.config.yaml': [
          'plugins: ["@cacheforge/plugin-generic"]',
          'upstream: { responseTimeout: 5s, retries: 0 }',
          'remotes:',
          '  a: { type: generic, upstream: "https://a.example/", client: { retries: 4, idleTimeout: 1m30s } }',
          '  b: { type: generic, upstream: "https://b.example/", ttl: { mutable: 0, negative: 90 }, maxSize: 2MiB }',
        ].join('\n'),
      });
      const { config } = await load({ cwd });
      expect(config.remotes.a!.client).to.deep.equal({ connectTimeout: 10_000, responseTimeout: 5000, firstByteTimeout: 30_000, idleTimeout: 90_000, retries: 4, maxSockets: 64, verifyBeforeSend: 16 * 1024 * 1024, downAfter: 3 });
      expect(config.remotes.b!.client).to.deep.equal({ connectTimeout: 10_000, responseTimeout: 5000, firstByteTimeout: 30_000, idleTimeout: 60_000, retries: 0, maxSockets: 64, verifyBeforeSend: 16 * 1024 * 1024, downAfter: 3 });
      expect(config.remotes.b!.ttl).to.deep.equal({ mutable: 0, negative: 90_000 });
      expect(config.remotes.b!.maxSize).to.equal(2 * 1024 * 1024);
    });

    it('applies the refinements a plugin puts on its options object', async () => {
      const cwd = await project({
        'either.mjs': minimalPlugin('either', `options: (z) => z.object({ token: z.string().optional(), user: z.string().optional() })
          .refine((o) => Boolean(o.token) !== Boolean(o.user), { message: 'give either token or user' }),`),
        'cacheforge.config.yaml': [
          'plugins: [./either.mjs]',
          'remotes:',
          '  none: { type: either, upstream: "https://a.example/" }',
          '  both: { type: either, upstream: "https://a.example/", token: t, user: u, extra: 1 }',
        ].join('\n'),
        'ok.yaml': 'plugins: [./either.mjs]\nremotes:\n  one: { type: either, upstream: "https://a.example/", user: u }\n',
      });
      const err = await rejectsWith(load({ cwd }), 'CF_ERR_CONFIG_INVALID');
      expect(problemsOf(err)).to.deep.equal({
        'remotes.none': 'give either token or user',
        'remotes.both': 'give either token or user',
        'remotes.both.extra': 'unknown key',
      });
      const { config } = await load({ cwd, configPath: 'ok.yaml' });
      expect(config.remotes.one!.options).to.deep.equal({ user: 'u' });
    });

    it('reports two plugins of one format as CF_ERR_PLUGIN_DUPLICATE, naming both packages', async () => {
      const cwd = await project({
        'one.mjs': minimalPlugin('twin'),
        'two.mjs': pluginModule(`{ name: 'twin', core: '*', createHandler() { return {}; } }`),
        'cacheforge.config.yaml': 'plugins: [./one.mjs, ./two.mjs]\n',
      });
      const err = await rejectsWith(load({ cwd }), 'CF_ERR_CONFIG_INVALID');
      expect(problemsOf(err)).to.deep.equal({
        'plugins[1]': 'CF_ERR_PLUGIN_DUPLICATE: plugin "./two.mjs" declares format "twin", which plugin "./one.mjs" already provides; list only one of them',
      });
    });
  });
});
