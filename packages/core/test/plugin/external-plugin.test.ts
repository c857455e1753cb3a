import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { runCli, RunningCli, TempDir, baseConfig } from '../cli/run-cli.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request, sha256 } from '../../src/testing/http.js';
import { CORE_VERSION } from '../../src/version.js';
import { GREET_PLUGIN, ECHO_PLUGIN, ECHO_PACKAGE_JSON, minimalPlugin, pluginModule } from './fixtures.js';

/**
 * A third-party plugin as a user installs it: plain JavaScript in a folder outside the workspace
 * (under os.tmpdir()), importing neither @cacheforge/core nor zod, named by path in `plugins:` and
 * run by the real `cacheforge start`.
 */
describe('plugin: a third-party plugin outside the workspace, run by the CLI', () => {
  let dir: TempDir;
  let upstream: FakeUpstream;
  const running: RunningCli[] = [];
  const artifact = randomBytes(150_000);

  before(async () => {
    dir = await TempDir.create('cf-external-plugin-');
    await dir.write('plugins/greet.mjs', GREET_PLUGIN);
    await dir.write('echo-plugin/package.json', ECHO_PACKAGE_JSON);
    await dir.write('echo-plugin/lib/plugin.js', ECHO_PLUGIN);
    upstream = await new FakeUpstream().start();
    upstream.set('/pub/tool-1.0.tgz', { body: artifact, headers: { 'content-type': 'application/gzip' } });
  });
  afterEach(async () => { await Promise.all(running.splice(0).map((cli) => cli.kill())); });
  after(async () => {
    await upstream.stop();
    await dir.remove();
  });

  it('the plugin source imports nothing', async () => {
    const source = await readFile(dir.join('plugins/greet.mjs'), 'utf8');
    expect(source).not.to.match(/\bimport\b|\brequire\(/);
    expect(dir.path).not.to.include('/work/');
  });

  it('validates the plugin\'s own options: a missing or wrong one stops the start, naming remotes.<name>.<option>', async () => {
    const file = await dir.write('conf/invalid.yaml', [
      'plugins: [../plugins/greet.mjs]',
      'remotes:',
      '  hello:',
      '    type: greet',
      `    upstream: ${upstream.url}pub/`,
      '  shout:',
      '    type: greet',
      `    upstream: ${upstream.url}pub/`,
      '    greeting: 42',
      '    punctuation: ""',
      '    volume: 11',
    ].join('\n'));
    const result = await runCli(['start', '--config', file, '--port', '0'], { cwd: dir.path });
    expect(result.code).to.equal(2);
    expect(result.stdout).not.to.include('cacheforge listening');
    expect(result.stderr).to.equal([
      `cacheforge: CF_ERR_CONFIG_INVALID: invalid configuration in ${file} (3 problems):`,
      '  - remotes.hello.greeting: required (expected string)',
      '  - remotes.shout.greeting: expected string, received number',
      '  - remotes.shout.volume: unknown key',
      '',
    ].join('\n'));
  });

  it('serves requests through a plugin loaded by file path and one loaded by package folder', async () => {
    const cwd = dir.join('conf');
    const file = await dir.write('conf/cacheforge.config.json', baseConfig(dir, {
      // Paths are relative to the config file's folder.
      plugins: ['../plugins/greet.mjs', '../echo-plugin'],
      remotes: {
        hello: { type: 'greet', upstream: `${upstream.url}pub/`, greeting: 'Hello' },
        hola: { type: 'greet', upstream: `${upstream.url}pub/`, greeting: 'Hola', punctuation: '?' },
        echo: { type: 'echo', upstream: 'http://127.0.0.1:9/', prefix: 'you said: ' },
      },
    }));
    const cli = await RunningCli.start(['--config', file, '--port', '0'], { cwd });
    running.push(cli);
    expect(cli.logLine('cacheforge listening')!.remotes).to.deep.equal([
      `hello (greet → ${upstream.url}pub/)`, `hola (greet → ${upstream.url}pub/)`, 'echo (echo → http://127.0.0.1:9/)',
    ]);

    // Answered by the plugin's own logic, with its options.
    const hello = await request(`${cli.url}/hello/hello/world`);
    expect(hello.status).to.equal(200);
    expect(hello.body.toString()).to.equal('Hello, world!');
    expect(hello.headers['x-cache-status']).to.equal('BYPASS');
    expect((await request(`${cli.url}/hola/hello/mundo`)).body.toString()).to.equal('Hola, mundo?');
    expect((await request(`${cli.url}/echo/a/b.txt`)).body.toString()).to.equal('you said: a/b.txt');

    // Served from the upstream through the core's pipeline: a miss, then a hit from the store.
    const miss = await request(`${cli.url}/hello/files/tool-1.0.tgz`);
    expect(miss.status).to.equal(200);
    expect(miss.headers['x-cache-status']).to.equal('MISS');
    expect(sha256(miss.body)).to.equal(sha256(artifact));
    const hit = await request(`${cli.url}/hello/files/tool-1.0.tgz`);
    expect(hit.status).to.equal(200);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(hit.headers['content-type']).to.equal('application/gzip');
    expect(sha256(hit.body)).to.equal(sha256(artifact));
    expect(upstream.count('/pub/tool-1.0.tgz')).to.equal(1);

    // Outside the plugin's URL space: the core's coded 404.
    const outside = await request(`${cli.url}/hello/elsewhere`);
    expect(outside.status).to.equal(404);
    expect(JSON.parse(outside.body.toString())).to.deep.equal({ errors: [{ code: 'CF_ERR_NOT_FOUND', message: "elsewhere is not part of a greet repository's URL space (remote \"hello\")" }] });

    const exit = await cli.stop('SIGTERM');
    expect(exit.code).to.equal(0);
    expect(cli.logLines().map((l) => l.msg)).to.include('stopped');
  });

  it('refuses to start on every plugin problem at once, each with its code and package', async () => {
    await dir.write('bad/no-handler.mjs', pluginModule(`{ name: 'nohandler', core: '^0.1.0' }`));
    await dir.write('bad/future.mjs', minimalPlugin('future').replace(`'^0.1.0'`, `'^9.0.0'`));
    await dir.write('bad/twin.mjs', minimalPlugin('greet'));
    await dir.write('bad/clash.mjs', minimalPlugin('clash', 'options: (z) => z.object({ headers: z.string() }),'));
    const file = await dir.write('bad/cacheforge.config.yaml', [
      'plugins:',
      '  - ../plugins/greet.mjs',
      '  - cacheforge-plugin-not-installed',
      '  - ./no-handler.mjs',
      '  - ./future.mjs',
      '  - ./twin.mjs',
      '  - ./clash.mjs',
      '  - ./missing.mjs',
    ].join('\n'));
    const result = await runCli(['start', '--config', file], { cwd: dir.path });
    expect(result.code).to.equal(2);
    const lines = result.stderr.split('\n');
    expect(lines[0]).to.equal(`cacheforge: CF_ERR_CONFIG_INVALID: invalid configuration in ${file} (6 problems):`);
    expect(lines[1]).to.match(/^ {2}- plugins\[1\]: CF_ERR_PLUGIN_NOT_FOUND: plugin package "cacheforge-plugin-not-installed" is not installed/);
    expect(lines[2]).to.match(/^ {2}- plugins\[2\]: CF_ERR_PLUGIN_CONTRACT: plugin "\.\/no-handler\.mjs" has no createHandler function/);
    expect(lines[3]).to.equal(`  - plugins[3]: CF_ERR_PLUGIN_VERSION_MISMATCH: plugin "./future.mjs" supports @cacheforge/core ^9.0.0, but this is ${CORE_VERSION}; install a version of the plugin made for it`);
    expect(lines[4]).to.equal('  - plugins[4]: CF_ERR_PLUGIN_DUPLICATE: plugin "./twin.mjs" declares format "greet", which plugin "../plugins/greet.mjs" already provides; list only one of them');
    expect(lines[5]).to.equal('  - plugins[5]: CF_ERR_PLUGIN_CONTRACT: plugin "./clash.mjs": options reuse the core\'s remote keys headers');
    expect(lines[6]).to.equal(`  - plugins[6]: CF_ERR_PLUGIN_NOT_FOUND: plugin path ${dir.join('bad/missing.mjs')} does not exist`);
  });

  it('refuses to start when a plugin\'s createHandler throws (CF_ERR_PLUGIN_FAILED, exit 2)', async () => {
    await dir.write('throws/explode.mjs', pluginModule(`{ name: 'explode', core: '^0.1.0', createHandler(remote) { throw new Error('cannot handle ' + remote.name); } }`));
    const file = await dir.write('throws/cacheforge.config.json', baseConfig(dir, {
      storage: { filesystem: { path: dir.join('throws/blobs') } },
      metadata: { sqlite: { filename: dir.join('throws/cacheforge.db') } },
      plugins: ['./explode.mjs'],
      remotes: { boom: { type: 'explode', upstream: 'http://127.0.0.1:9/' } },
    }));
    const result = await runCli(['start', '--config', file], { cwd: dir.join('throws') });
    expect(result.code).to.equal(2);
    expect(result.stdout).not.to.include('cacheforge listening');
    expect(result.stderr).to.equal('cacheforge: CF_ERR_PLUGIN_FAILED: plugin ./explode.mjs could not create the handler of remote boom: cannot handle boom\n');
  });
});
