import { expect } from 'chai';
import net from 'node:net';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { KnexMetadataStore } from '../../src/metadata/knex/knex-metadata-store.js';
import { KnexManagementStore } from '../../src/metadata/knex/knex-management-store.js';
import { runCli, RunningCli, TempDir, baseConfig, parseLogLines } from './run-cli.js';
import { request } from '../../src/testing/http.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { GREET_PLUGIN } from '../plugin/fixtures.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A listening socket on 127.0.0.1 (to hold a port, or to learn a free one). */
async function listen(): Promise<net.Server> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;
const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('cli: cacheforge', () => {
  let dir: TempDir;
  const running: RunningCli[] = [];

  before(async () => { dir = await TempDir.create('cf-cli-'); });
  afterEach(async () => { await Promise.all(running.splice(0).map((cli) => cli.kill())); });
  after(async () => { await dir.remove(); });

  describe('usage', () => {
    it('--version prints the core version', async () => {
      const result = await runCli(['--version'], { cwd: dir.path });
      expect(result).to.include({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    });

    it('--help prints the usage and exits 0', async () => {
      const result = await runCli(['--help'], { cwd: dir.path });
      expect(result.code).to.equal(0);
      expect(result.stdout).to.include('cacheforge start [--config FILE] [--port N]');
      expect(result.stdout).to.include('cacheforge config check [--config FILE]');
    });

    const refused: [string, string[], string][] = [
      ['no command', [], 'cacheforge: no command given\n'],
      ['an unknown command', ['serve'], 'cacheforge: unknown command "serve"\n'],
      ['an unknown option', ['start', '--verbose'], "cacheforge: Unknown option '--verbose'"],
      ['a port that is not a number', ['start', '--port', 'abc'], 'cacheforge: --port expects 0-65535, got abc\n'],
      ['a port out of range', ['start', '--port', '70000'], 'cacheforge: --port expects 0-65535, got 70000\n'],
    ];
    for (const [what, args, message] of refused) {
      it(`exits 2 on ${what}, saying why on stderr`, async () => {
        const result = await runCli(args, { cwd: dir.path });
        expect(result.code).to.equal(2);
        expect(result.stderr.startsWith(message), result.stderr).to.equal(true);
        expect(result.stdout).to.equal('');
      });
    }
  });

  describe('config check', () => {
    it('with no config anywhere, prints the embedded defaults: port 8080, no plugins outside the workspace', async () => {
      const cwd = dir.join('empty');
      await dir.write('empty/package.json', { name: 'empty', private: true });
      const result = await runCli(['config', 'check'], { cwd });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.equal('configuration OK (embedded defaults)\n');
      const shown = JSON.parse(result.stdout) as Record<string, any>;
      expect(shown.source).to.equal('embedded defaults');
      expect(shown.server).to.deep.equal({ host: '0.0.0.0', port: 8080, trustProxy: false, headersTimeout: '20s', maxConnectionsPerClient: 256, shutdownTimeout: '30s', offline: false, workers: 1 });
      expect(shown.storage).to.deep.equal({ filesystem: { path: './data/blobs' } });
      expect(shown.metadata).to.deep.equal({ sqlite: { filename: './data/cacheforge.db' }, flushInterval: '5s' });
      expect(shown.plugins).to.deep.equal([]);
      expect(shown.remotes).to.deep.equal({});
    });

    it('with no config, loads every @cacheforge/plugin-* installed from the working directory up', async () => {
      await dir.write('with-plugin/package.json', { name: 'app', private: true });
      await dir.write('with-plugin/node_modules/@cacheforge/plugin-fake/package.json', {
        name: '@cacheforge/plugin-fake', version: '0.1.0', type: 'module', exports: { '.': { import: './index.js' } },
      });
      await dir.write('with-plugin/node_modules/@cacheforge/plugin-fake/index.js', GREET_PLUGIN
        .replace("name: 'greet'", "name: 'fake'")
        .replace('classes:', "defaultRemotes: () => ({ fake: { upstream: 'https://fake.example/files', greeting: 'Hi' } }),\n  classes:"));
      await dir.write('with-plugin/sub/.keep', '');
      const result = await runCli(['config', 'check'], { cwd: dir.join('with-plugin', 'sub') });
      expect(result.code, result.stderr).to.equal(0);
      const shown = JSON.parse(result.stdout) as Record<string, any>;
      expect(shown.source).to.equal('embedded defaults');
      expect(shown.plugins).to.deep.equal(['@cacheforge/plugin-fake (format fake)']);
      expect(shown.remotes.fake).to.include({ type: 'fake', upstream: 'https://fake.example/files/', greeting: 'Hi', punctuation: '!' });
    });

    it('finds cacheforge.config.yaml in the working directory, or the file CACHEFORGE_CONFIG names', async () => {
      const cwd = dir.join('found');
      await dir.write('found/package.json', { name: 'found', private: true });
      await dir.write('found/cacheforge.config.yaml', 'server:\n  port: 9123\n');
      await dir.write('found/ops/prod.json', { server: { port: 9124 } });
      const searched = await runCli(['config', 'check'], { cwd });
      expect(searched.code, searched.stderr).to.equal(0);
      expect(searched.stderr).to.equal(`configuration OK (${cwd}/cacheforge.config.yaml)\n`);
      expect((JSON.parse(searched.stdout) as { server: { port: number } }).server.port).to.equal(9123);
      const byEnv = await runCli(['config', 'check'], { cwd, env: { CACHEFORGE_CONFIG: 'ops/prod.json' } });
      expect(byEnv.code, byEnv.stderr).to.equal(0);
      expect(byEnv.stderr).to.equal(`configuration OK (${cwd}/ops/prod.json)\n`);
      expect((JSON.parse(byEnv.stdout) as { server: { port: number } }).server.port).to.equal(9124);
    });

    it('prints the effective config with every secret masked', async () => {
      await dir.write('secrets/greet.mjs', GREET_PLUGIN.replace(
        'punctuation: z.string().default(\'!\')', 'punctuation: z.string().default(\'!\'), apiToken: z.string().optional(), password: z.string().optional()'));
      const file = await dir.write('secrets/cacheforge.config.yaml', [
        'server: { host: 127.0.0.1, port: 0 }',
        'storage: { s3: { endPoint: s3.example, bucket: cacheforge, accessKey: AKIDEXAMPLE, secretKey: literal-s3-secret-333 } }',
        'metadata: { postgres: { connection: "postgres://cf:literal-pg-password-111@db.example:5432/cf" } }',
        'cache: { redis: { url: "redis://:literal-redis-password-222@redis.example:6379/0" } }',
        'plugins: [./greet.mjs]',
        'remotes:',
        '  hi:',
        '    type: greet',
        '    upstream: https://builder:${CF_TEST_UPSTREAM_PASSWORD}@up.example/base',
        '    greeting: ${CF_TEST_GREETING}',
        '    apiToken: literal-api-token-123',
        '    password: literal-password-456',
        '    headers:',
        '      authorization: Bearer ${CF_TEST_TOKEN}',
        '      x-api-key: literal-header-key-789',
        '    include: ["^files/", "^hello/"]',
        '    ttl: { mutable: 90s }',
        '  plain:',
        '    type: greet',
        '    upstream: https://reader:literal-url-password-000@other.example/',
        '    greeting: Hello',
      ].join('\n'));
      const secrets = {
        CF_TEST_UPSTREAM_PASSWORD: 'env-url-password-aaa', CF_TEST_GREETING: 'env-greeting-bbb', CF_TEST_TOKEN: 'env-token-ccc',
      };
      const result = await runCli(['config', 'check', '--config', file], { cwd: dir.join('secrets'), env: secrets });
      expect(result.code, result.stderr).to.equal(0);
      const output = result.stdout + result.stderr;
      for (const secret of [...Object.values(secrets), 'literal-api-token-123', 'literal-password-456', 'literal-header-key-789', 'literal-url-password-000',
        'literal-s3-secret-333', 'literal-pg-password-111', 'literal-redis-password-222']) {
        expect(output, secret).not.to.include(secret);
      }
      const shown = JSON.parse(result.stdout) as Record<string, any>;
      expect(shown.remotes.hi).to.deep.include({
        type: 'greet', upstream: '***', greeting: '***', apiToken: '***', password: '***', punctuation: '!',
        headers: { authorization: '***', 'x-api-key': '***' }, include: ['^files\\/', '^hello\\/'], ttl: { mutable: '90s' },
      });
      expect(shown.remotes.plain).to.deep.include({ upstream: 'https://reader:***@other.example/', greeting: 'Hello' });
      expect(shown.plugins).to.deep.equal(['./greet.mjs (format greet)']);
      expect(shown.server).to.deep.include({ host: '127.0.0.1', port: 0 });
      expect(shown.metadata.postgres.connection).to.equal('postgres://cf:***@db.example:5432/cf');
      expect(shown.cache.redis.url).to.equal('redis://:***@redis.example:6379/0');
      expect(shown.storage.s3).to.deep.include({ endPoint: 's3.example', accessKey: '***', secretKey: '***' });
    });

    it('shows the remotes added through the API beside the file\'s, masked, read from the metadata store', async () => {
      await dir.write('runtime/greet.mjs', GREET_PLUGIN);
      const db = dir.join('runtime', 'cf.db');
      const file = await dir.write('runtime/cacheforge.config.yaml', [
        'server: { host: 127.0.0.1, port: 0 }', `metadata: { sqlite: { filename: ${JSON.stringify(db)} } }`, 'plugins: [./greet.mjs]',
        'remotes:', '  hi: { type: greet, upstream: https://up.example/, greeting: Hello }',
      ].join('\n'));
      const before = await runCli(['config', 'check', '--config', file], { cwd: dir.join('runtime') });
      expect(before.code, before.stderr).to.equal(0);
      expect((JSON.parse(before.stdout) as Record<string, any>).runtimeRemotes, 'no database yet').to.deep.equal({});
      expect(existsSync(db), 'config check creates no database').to.equal(false);
      const store = new KnexMetadataStore({ dialect: 'sqlite', filename: db });
      await store.init();
      const remotes = new KnexManagementStore(store.knex, 'sqlite').remotes;
      await remotes.put({ name: 'added', definition: { type: 'greet', upstream: 'https://other.example/', greeting: 'Hey', headers: { authorization: 'Bearer literal-runtime-secret-42' } }, updatedAt: 1 });
      await remotes.put({ name: 'broken', definition: { type: 'gone', upstream: 'https://x.example/' }, updatedAt: 2 });
      await store.close();
      const result = await runCli(['config', 'check', '--config', file], { cwd: dir.join('runtime') });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).not.to.include('literal-runtime-secret-42');
      const shown = JSON.parse(result.stdout) as Record<string, any>;
      expect(Object.keys(shown.remotes)).to.deep.equal(['hi']);
      expect(shown.runtimeRemotes.added).to.deep.include({ type: 'greet', upstream: 'https://other.example/', greeting: 'Hey', headers: { authorization: '***' } });
      expect(shown.runtimeRemotes.broken.invalid).to.match(/remotes\.broken\.type/);
      expect(result.stderr).to.include('runtime remotes that no longer pass the schema: broken');
    });

    it('says plainly when the metadata store holding runtime remotes cannot be read, and still checks the file', async () => {
      const file = await dir.write('unreachable/cacheforge.config.json', { metadata: { postgres: { connection: 'postgres://cf:literal-pw-77@127.0.0.1:1/cf' } } });
      const result = await runCli(['config', 'check', '--config', file], { cwd: dir.join('unreachable') });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.match(/runtime remotes not shown: the metadata store could not be read \(postgres: /);
      expect(result.stdout + result.stderr).not.to.include('literal-pw-77');
    });

    it('exits 2 with the problems when the config is wrong, like start', async () => {
      const file = await dir.write('check-bad/cacheforge.config.json', { server: { port: -1 } });
      const result = await runCli(['config', 'check', '--config', file], { cwd: dir.path });
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.equal(`cacheforge: CF_ERR_CONFIG_INVALID: invalid configuration in ${file} (1 problem):\n`
        + '  - server.port: Too small: expected number to be >=0\n');
    });
  });

  describe('start', () => {
    it('--port overrides the port of the config file', async () => {
      const held = await listen(); // the config's port is taken: only the override can work
      const free = await listen();
      const port = portOf(free);
      await close(free);
      try {
        const file = await dir.write('port/cacheforge.config.json', baseConfig(dir, { server: { host: '127.0.0.1', port: portOf(held) } }));
        const cli = await RunningCli.start(['--config', file, '--port', String(port)], { cwd: dir.join('port') });
        running.push(cli);
        expect(cli.port).to.equal(port);
        expect(cli.logLine('cacheforge listening')).to.include({ host: '127.0.0.1', config: file });
        const health = await request(`http://127.0.0.1:${port}/-/health`);
        expect(health.status).to.equal(200);
        expect(JSON.parse(health.body.toString())).to.deep.equal({ status: 'ok', version: VERSION });
      } finally {
        await close(held);
      }
    });

    it('exits 1, not 2, when the port is taken (the config is fine, the machine is not)', async () => {
      const held = await listen();
      try {
        const file = await dir.write('taken/cacheforge.config.json', baseConfig(dir, { server: { host: '127.0.0.1', port: portOf(held) } }));
        const result = await runCli(['start', '--config', file], { cwd: dir.join('taken') });
        expect(result.code).to.equal(1);
        expect(result.stderr).to.match(/^cacheforge: failed to start: listen EADDRINUSE/);
      } finally {
        await close(held);
      }
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`stops gracefully on ${signal}: finishes the download in flight, logs "stopped", exits 0`, async () => {
        const upstream = await new FakeUpstream().start();
        try {
          const body = Buffer.alloc(200_000, 7);
          upstream.set('/slow.bin', { body, rate: 400_000 }); // about half a second
          const cwd = dir.join(`graceful-${signal}`);
          const file = await dir.write(`graceful-${signal}/cacheforge.config.json`, baseConfig(dir, {
            storage: { filesystem: { path: `${cwd}/blobs` } },
            metadata: { sqlite: { filename: `${cwd}/cacheforge.db` }, flushInterval: '100ms' },
            plugins: ['@cacheforge/plugin-generic'],
            remotes: { files: { type: 'generic', upstream: upstream.url } },
          }));
          const cli = await RunningCli.start(['--config', file], { cwd });
          running.push(cli);
          const download = request(`${cli.url}/files/slow.bin`);
          while (upstream.count('/slow.bin') === 0) await new Promise((r) => setTimeout(r, 20));
          const exit = await cli.stop(signal);
          const got = await download;
          expect(exit.code, exit.stderr).to.equal(0);
          expect(exit.signal).to.equal(null);
          expect(got.status).to.equal(200);
          expect(got.complete).to.equal(true);
          expect(got.body.equals(body)).to.equal(true);
          const messages = parseLogLines(exit.stdout).map((l) => l.msg);
          expect(messages[0]).to.equal('cacheforge listening');
          // NOTE: not "exactly these two": server.stop() currently also warns "aborting unfinished
          // downloads" for a fill whose bytes are committed but whose metadata row is still being
          // written (reported to the lead; server/ is not ours to change).
          expect(messages).to.include('shutting down');
          expect(messages[messages.length - 1]).to.equal('stopped');
          expect(parseLogLines(exit.stdout).find((l) => l.msg === 'shutting down')).to.include({ reason: signal });
          // Nothing listens there any more.
          const refused = await request(`${cli.url}/-/health`).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code);
          expect(refused).to.equal('ECONNREFUSED');
          // What was downloaded before the stop was kept: a new process serves it from the store.
          const again = await RunningCli.start(['--config', file], { cwd });
          running.push(again);
          const second = await request(`${again.url}/files/slow.bin`);
          expect(second.status).to.equal(200);
          expect(second.headers['x-cache-status']).to.equal('HIT');
          expect(second.body.equals(body)).to.equal(true);
          expect(upstream.count('/slow.bin')).to.equal(1);
        } finally {
          await upstream.stop();
        }
      });
    }
  });
});
