import { expect } from 'chai';
import { runCli, TempDir, baseConfig, type CliResult } from './run-cli.js';

/**
 * A wrong config stops `cacheforge start` before it listens: exit code 2, and one message on stderr
 * naming the file, then every problem on its own line as `  - <key path>: <what was expected>`.
 */
describe('cli: a wrong config stops the start (exit 2)', () => {
  let dir: TempDir;

  before(async () => { dir = await TempDir.create('cf-config-errors-'); });
  after(async () => { await dir.remove(); });

  /** Writes `config` as `name` in the temp folder and runs `cacheforge start --config FILE`. */
  async function start(name: string, config: string | object): Promise<{ file: string; result: CliResult }> {
    const file = await dir.write(name, config);
    const result = await runCli(['start', '--config', file], { cwd: dir.path });
    return { file, result };
  }

  /** The problem lines of a CF_ERR_CONFIG_INVALID report, by key path. */
  function problems(stderr: string): Map<string, string> {
    const lines = stderr.split('\n').filter((l) => l.startsWith('  - '));
    return new Map(lines.map((l) => {
      const body = l.slice(4);
      const colon = body.indexOf(': ');
      return [body.slice(0, colon), body.slice(colon + 2)];
    }));
  }

  /** Asserts a refused start and returns its problems; `count` is the number the header announces. */
  function refused(file: string, result: CliResult, count: number): Map<string, string> {
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stdout).not.to.include('cacheforge listening');
    expect(result.stderr).to.include(
      `cacheforge: CF_ERR_CONFIG_INVALID: invalid configuration in ${file} (${count} problem${count === 1 ? '' : 's'}):`);
    const found = problems(result.stderr);
    expect(found.size, result.stderr).to.equal(count);
    return found;
  }

  const generic = { plugins: ['@cacheforge/plugin-generic'] };
  const files = (remote: Record<string, unknown>) => ({ remotes: { files: { type: 'generic', upstream: 'http://127.0.0.1:9/', ...remote } } });

  it('names an unknown top-level key', async () => {
    const { file, result } = await start('unknown-top.yaml', 'servr:\n  port: 8080\n');
    expect(refused(file, result, 1).get('servr')).to.equal('unknown key (did you mean `server`?)');
  });

  it('names an unknown nested key, in the core keys and in a remote', async () => {
    const { file, result } = await start('unknown-nested.json', baseConfig(dir, {
      ...generic,
      server: { host: '127.0.0.1', port: 0, colour: 'blue' },
      ...files({ foo: 1 }),
    }));
    const found = refused(file, result, 2);
    expect(found.get('server.colour')).to.equal('unknown key');
    expect(found.get('remotes.files.foo')).to.equal('unknown key');
  });

  it('names a value of the wrong type and the type expected', async () => {
    const { file, result } = await start('wrong-type.yaml', 'server:\n  port: abc\n');
    expect(refused(file, result, 1).get('server.port')).to.equal('expected number, received string');
  });

  it('names a remote without its upstream', async () => {
    const { file, result } = await start('no-upstream.json', baseConfig(dir, { ...generic, remotes: { files: { type: 'generic' } } }));
    expect(refused(file, result, 1).get('remotes.files.upstream')).to.match(/^required \(expected string\)$/);
  });

  it('names each bad regular expression in include, immutable and mutable', async () => {
    const { file, result } = await start('bad-regex.json', baseConfig(dir, {
      ...generic, ...files({ include: ['^ok/', '(unclosed'], immutable: ['[z-a]'], mutable: ['*.json'] }),
    }));
    const found = refused(file, result, 3);
    expect(found.get('remotes.files.include[1]')).to.match(/^invalid regular expression: .*Unterminated group/);
    expect(found.get('remotes.files.immutable[0]')).to.match(/^invalid regular expression: .*out of order/);
    expect(found.get('remotes.files.mutable[0]')).to.match(/^invalid regular expression: .*Nothing to repeat/);
  });

  it('names a plugin that is not installed, with its code and package', async () => {
    const { file, result } = await start('unknown-plugin.json', baseConfig(dir, { plugins: ['@cacheforge/plugin-generic', 'cacheforge-plugin-nope'] }));
    expect(refused(file, result, 1).get('plugins[1]')).to.match(
      /^CF_ERR_PLUGIN_NOT_FOUND: plugin package "cacheforge-plugin-nope" is not installed .*install it, e\.g\. `pnpm add cacheforge-plugin-nope`$/);
  });

  it('names a remote of a type no loaded plugin provides', async () => {
    const { file, result } = await start('unknown-type.json', baseConfig(dir, {
      ...generic, remotes: { files: { type: 'nuget', upstream: 'https://api.nuget.org/v3/' } },
    }));
    expect(refused(file, result, 1).get('remotes.files.type')).to.equal(
      'unknown remote type "nuget": expected the format of a loaded plugin (generic)');
  });

  it('names an invalid duration and shows what a duration looks like', async () => {
    const { file, result } = await start('bad-duration.yaml', [
      'plugins: ["@cacheforge/plugin-generic"]',
      'remotes:',
      '  files:',
      '    type: generic',
      '    upstream: https://example.org/',
      '    ttl:',
      '      mutable: ten minutes',
    ].join('\n'));
    expect(refused(file, result, 1).get('remotes.files.ttl.mutable')).to.equal(
      'expected a duration such as 30s, 10m, 1h or 7d, got "ten minutes"');
  });

  it('names a config with no storage backend', async () => {
    const { file, result } = await start('no-storage.json', baseConfig(dir, { storage: {} }));
    expect(refused(file, result, 1).get('storage')).to.equal('exactly one storage backend must be configured (filesystem or s3), found none');
  });

  const s3 = { endPoint: '127.0.0.1', port: 9, useSSL: false, bucket: 'cacheforge', accessKey: 'a', secretKey: 's' };

  it('names two storage backends configured at once', async () => {
    const { file, result } = await start('two-storages.json', baseConfig(dir, { storage: { filesystem: { path: dir.join('blobs') }, s3 } }));
    expect(refused(file, result, 1).get('storage')).to.equal('exactly one storage backend must be configured (filesystem or s3), found filesystem, s3');
  });

  it('names each wrong key of the scale-out backends (S3, PostgreSQL, Redis)', async () => {
    const { file, result } = await start('scale-out.json', baseConfig(dir, {
      storage: { s3: { ...s3, endPoint: 'http://minio.lan:9000', bucket: 'Bad_Bucket', partSize: '1MiB' } },
      metadata: { postgres: { connection: 'mysql://db.lan/cf' } },
      cache: { redis: { url: 'redis.lan:6379' }, lock: { ttl: '10ms' } },
    }));
    const found = refused(file, result, 6);
    expect(found.get('storage.s3.endPoint')).to.equal('expected a host name without scheme or path (set port and useSSL separately)');
    expect(found.get('storage.s3.bucket')).to.equal('expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');
    expect(found.get('storage.s3.partSize')).to.equal('expected at least 5MiB (the S3 minimum part size)');
    expect(found.get('metadata.postgres.connection')).to.match(/postgres:\/\/ URL/);
    expect(found.get('cache.redis.url')).to.equal('expected a redis:// or rediss:// URL');
    expect(found.get('cache.lock.ttl')).to.equal('expected at least 1s');
  });

  it('names two metadata backends, and a missing S3 credential', async () => {
    const { file, result } = await start('two-metadata.json', baseConfig(dir, {
      storage: { s3: { ...s3, secretKey: undefined } },
      metadata: { sqlite: { filename: dir.join('m.db') }, postgres: { connection: 'postgres://u@127.0.0.1:9/cf' } },
    }));
    const found = refused(file, result, 2);
    expect(found.get('metadata')).to.equal('exactly one metadata backend must be configured (sqlite or postgres), found sqlite, postgres');
    expect(found.get('storage.s3.secretKey')).to.match(/string/);
  });

  it('names the key whose ${VAR} is not set', async () => {
    const { file, result } = await start('unset-var.yaml', [
      'plugins: ["@cacheforge/plugin-generic"]',
      'remotes:',
      '  files:',
      '    type: generic',
      '    upstream: https://example.org/',
      '    headers:',
      '      authorization: Bearer ${CF_TEST_UNSET_TOKEN}',
    ].join('\n'));
    expect(refused(file, result, 1).get('remotes.files.headers.authorization')).to.equal(
      'environment variable CF_TEST_UNSET_TOKEN is not set (and no ${CF_TEST_UNSET_TOKEN:-default} given)');
  });

  it('does not print a secret from the environment while naming its key', async () => {
    const file = await dir.write('secret-in-error.yaml', [
      'plugins: ["@cacheforge/plugin-generic"]',
      'remotes:',
      '  files:',
      '    type: generic',
      '    upstream: ${CF_TEST_UPSTREAM}',
    ].join('\n'));
    const result = await runCli(['start', '--config', file], {
      cwd: dir.path, env: { CF_TEST_UPSTREAM: 'deploy:tok-4f9c2e81@artifacts.example/repo' }, // the scheme is missing
    });
    expect(refused(file, result, 1).get('remotes.files.upstream')).to.equal(
      'expected an http or https URL; got a value from the environment (not shown)');
    for (const part of ['deploy', 'tok-4f9c2e81', 'artifacts.example']) expect(result.stderr + result.stdout).not.to.include(part);
  });

  it('lists every problem of one file at once', async () => {
    const { file, result } = await start('many.yaml', [
      'servr: {}',
      'server:',
      '  port: abc',
      'storage: {}',
      'plugins:',
      '  - "@cacheforge/plugin-generic"',
      '  - ./no-such-plugin.mjs',
      'remotes:',
      '  files:',
      '    type: generic',
      '    foo: bar',
      '    include: ["(("]',
      '    ttl: { mutable: ten minutes }',
      '  docs:',
      '    type: generic',
      '  other:',
      '    type: rubygems',
      '    upstream: https://rubygems.org/',
      '  Bad_Name:',
      '    type: generic',
      '    upstream: https://example.org/',
    ].join('\n'));
    const found = refused(file, result, 11);
    expect(Object.fromEntries(found)).to.deep.equal({
      'servr': 'unknown key (did you mean `server`?)',
      'server.port': 'expected number, received string',
      'storage': 'exactly one storage backend must be configured (filesystem or s3), found none',
      'plugins[1]': `CF_ERR_PLUGIN_NOT_FOUND: plugin path ${dir.join('no-such-plugin.mjs')} does not exist`,
      'remotes.files.upstream': 'required (expected string)',
      'remotes.files.foo': 'unknown key',
      'remotes.files.include[0]': 'invalid regular expression: Invalid regular expression: /((/: Unterminated group',
      'remotes.files.ttl.mutable': 'expected a duration such as 30s, 10m, 1h or 7d, got "ten minutes"',
      'remotes.docs.upstream': 'required (expected string)',
      'remotes.other.type': 'unknown remote type "rubygems": expected the format of a loaded plugin (generic)',
      'remotes.Bad_Name': `invalid remote name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (/^[a-z0-9][a-z0-9._-]{0,63}$/)`,
    });
  });

  it('reports a file that is not valid YAML as unreadable, naming it', async () => {
    const { file, result } = await start('broken.yaml', 'server:\n  port: [8080\n');
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(new RegExp(`^cacheforge: CF_ERR_CONFIG_UNREADABLE: config file ${escape(file)} cannot be parsed: YAML Error`));
  });

  it('reports a --config file that does not exist', async () => {
    const result = await runCli(['start', '--config', 'missing.yaml'], { cwd: dir.path });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.equal(`cacheforge: CF_ERR_CONFIG_NOT_FOUND: config file ${dir.join('missing.yaml')} does not exist\n`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
