import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/plugin/load-config.js';
import { closest } from '../../src/config/problems.js';

describe('config: an unknown key gets the valid key it was close to', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-problems-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('suggests a key valid at that level (core, nested, a remote, a plugin option), and nothing when none is close', async () => {
    const file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({
      plugins: ['@cacheforge/plugin-generic'],
      servr: {},
      server: { prot: 8080, colour: 'blue', trustproxy: true },
      upstream: { idelTimeout: '1m' },
      remotes: { files: { type: 'generic', upstrem: 'http://127.0.0.1:9/', upstream: 'http://127.0.0.1:9/', foo: 1, tll: {} } },
    }));
    const err = await loadConfig({ configPath: file, env: {} }).then(() => undefined, (e: Error) => e);
    const lines = err?.message.split('\n').map((l) => l.trim()) ?? [];
    const problem = (key: string) => lines.find((l) => l.startsWith(`- ${key}:`));
    expect(problem('servr')).to.equal('- servr: unknown key (did you mean `server`?)');
    expect(problem('server.prot')).to.equal('- server.prot: unknown key (did you mean `port`?)');
    expect(problem('server.trustproxy')).to.equal('- server.trustproxy: unknown key (did you mean `trustProxy`?)');
    expect(problem('server.colour')).to.equal('- server.colour: unknown key');
    expect(problem('upstream.idelTimeout')).to.equal('- upstream.idelTimeout: unknown key (did you mean `idleTimeout`?)');
    expect(problem('remotes.files.upstrem')).to.equal('- remotes.files.upstrem: unknown key (did you mean `upstream`?)');
    expect(problem('remotes.files.tll')).to.equal('- remotes.files.tll: unknown key (did you mean `ttl`?)');
    expect(problem('remotes.files.foo')).to.equal('- remotes.files.foo: unknown key');
  });

  it('measures closeness in edits, ignoring case, and refuses far or short guesses', () => {
    expect(closest('upstrem', ['type', 'upstream', 'include'])).to.equal('upstream');
    expect(closest('PORT', ['host', 'port'])).to.equal('port');
    expect(closest('foo', ['ttl', 'type'])).to.equal(undefined);
    expect(closest('x', ['a'])).to.equal(undefined);
    expect(closest('maxsize', ['maxSize', 'minSize'])).to.equal('maxSize');
  });
});
