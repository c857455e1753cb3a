import { expect } from 'chai';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rm, writeFile } from 'node:fs/promises';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request } from '../../src/testing/http.js';
import { runCli } from './run-cli.js';

const ADMIN = 'cli-test-admin-token-0123456789abcdef';

/** The real `cacheforge` command against a running server, as a script or a person uses it. */
describe('cli: the commands that talk to a running server', function () {
  // Each command is a real process started through tsx: seconds apiece on a loaded machine.
  this.timeout(240_000);
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  const cli = (args: string[], token: string | null = ADMIN) => runCli(args, { cwd: tmpdir(), env: { CACHEFORGE_URL: cf.url, CACHEFORGE_TOKEN: token ?? undefined } });

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/pkg/a.txt', { body: Buffer.from('a\n') });
    upstream.set('/pkg/b.txt', { body: Buffer.from('bb\n') });
    cf = await startCacheForge({ auth: { adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    for (const p of ['pkg/a.txt', 'pkg/b.txt', 'pkg/a.txt']) { await request(`${cf.url}/files/${p}`); await cf.fillsSettled(); }
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('remotes ls, artifacts ls and stats print tables, and --json the API\'s answer', async () => {
    const remotes = await cli(['remotes', 'ls']);
    expect(remotes.code, remotes.stderr).to.equal(0);
    expect(remotes.stdout).to.match(/^NAME\s+TYPE\s+UPSTREAM\s+OFFLINE\nfiles\s+generic\s+http:\/\/127\.0\.0\.1/);
    const ls = await cli(['artifacts', 'ls', 'files', 'pkg']);
    expect(ls.code, ls.stderr).to.equal(0);
    expect(ls.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).to.deep.equal(['pkg/a.txt', 'pkg/b.txt']);
    const json = await cli(['artifacts', 'ls', 'files', '--json']);
    expect(JSON.parse(json.stdout).children).to.deep.equal([{ name: 'pkg/', kind: 'folder', count: 2, size: 5, lastAccess: (JSON.parse(json.stdout).children[0].lastAccess as string | null) }]);
    const stats = await cli(['stats', '--remote', 'files', '--json']);
    expect(stats.code, stats.stderr).to.equal(0);
    expect(JSON.parse(stats.stdout).remotes[0].requests).to.include({ HIT: 1, MISS: 2 });
    expect((await cli(['stats'])).stdout).to.match(/^REMOTE\s+HIT\s+MISS/);
  });

  it('setup prints every remote\'s client configuration, and one remote\'s with REMOTE', async () => {
    const all = await cli(['setup'], null);
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.contain('## files (generic)');
    const one = await cli(['setup', 'files']);
    expect(one.code, one.stderr).to.equal(0);
    expect(one.stdout).to.contain(`curl -fLO ${cf.url}/files/<path>`);
  });

  it('tokens create shows the value once; ls lists it without; revoke ends it', async () => {
    const created = await cli(['tokens', 'create', 'ci', '--scope', 'read', '--expires', '30d', '--json']);
    expect(created.code, created.stderr).to.equal(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    expect(token).to.match(/^cf_/);
    const ls = await cli(['tokens', 'ls']);
    expect(ls.stdout).to.contain(id);
    expect(ls.stdout).to.not.contain(token);
    expect((await cli(['remotes', 'ls'], token)).code).to.equal(0);
    expect((await cli(['tokens', 'revoke', id])).code).to.equal(0);
    expect((await cli(['remotes', 'ls'], token)).code, 'revoked: refused').to.equal(3);
  });

  it('artifacts rm and flush --yes purge; flush without --yes refuses', async () => {
    const rm = await cli(['artifacts', 'rm', 'files', 'pkg/a.txt']);
    expect(rm.code, rm.stderr).to.equal(0);
    expect(rm.stdout).to.contain('purged 1 artifact record(s), deleted 1 blob(s)');
    const refused = await cli(['flush', '--remote', 'files']);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.contain('add --yes');
    const flushed = await cli(['flush', '--remote', 'files', '--yes', '--json']);
    expect(flushed.code, flushed.stderr).to.equal(0);
    expect(JSON.parse(flushed.stdout).artifacts).to.equal(1);
  });

  it('exits 3 without a token, 4 for an unknown remote, 5 for a name in use, 1 when the server is unreachable, 2 for bad usage', async () => {
    const none = await cli(['remotes', 'ls'], null);
    expect(none.code).to.equal(3);
    expect(none.stderr).to.contain('CF_ERR_AUTH_REQUIRED');
    expect(none.stderr).to.contain('CACHEFORGE_TOKEN');
    expect((await cli(['artifacts', 'ls', 'nope'])).code).to.equal(4);
    expect((await cli(['tokens', 'create', 'dup'])).code).to.equal(0);
    expect((await cli(['tokens', 'create', 'dup'])).code).to.equal(5);
    const down = await runCli(['remotes', 'ls', '--url', 'http://127.0.0.1:9'], { cwd: tmpdir(), env: { CACHEFORGE_TOKEN: ADMIN } });
    expect(down.code).to.equal(1);
    expect(down.stderr).to.contain('cannot reach http://127.0.0.1:9');
    expect((await cli(['artifacts', 'rm', 'files'])).code).to.equal(2);
  });

  it('remotes put NAME --file (YAML) adds a runtime remote, remotes rm removes it; a file remote is a conflict (5)', async () => {
    const file = path.join(tmpdir(), `cf-cli-remote-${process.pid}.yaml`);
    await writeFile(file, `type: generic\nupstream: ${upstream.url}\n`);
    try {
      const put = await cli(['remotes', 'put', 'extra', '--file', file]);
      expect(put.code, put.stderr).to.equal(0);
      expect((await request(`${cf.url}/extra/pkg/a.txt`)).status).to.equal(200);
      expect((await cli(['remotes', 'put', 'files', '--file', file])).code).to.equal(5);
      const rm = await cli(['remotes', 'rm', 'extra']);
      expect(rm.code, rm.stderr).to.equal(0);
      expect((await request(`${cf.url}/extra/pkg/a.txt`)).status).to.equal(404);
      expect((await cli(['remotes', 'rm', 'extra'])).code).to.equal(4);
    } finally {
      await rm(file, { force: true });
    }
  });
});
