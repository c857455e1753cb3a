import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnCacheForge, type CliProcess } from '../../src/testing/cli-process.js';
import { request } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';

/**
 * A plugin with a bug of the kind the guard exists for: each request leaves behind an 'error'
 * event nobody listens to and a rejection nobody awaits, both carrying a URL with credentials.
 */
const BUGGY_PLUGIN = `
import { EventEmitter } from 'node:events';
export default {
  name: 'buggy', core: '^0.1.0',
  createHandler() {
    return {
      canHandle: () => ({ kind: 'passthrough' }),
      async fetch() {
        setImmediate(() => new EventEmitter().emit('error', new Error('body of http://user:hunter2@up.example/x?token=s3cr3t broke')));
        void Promise.reject(new Error('late rejection for http://user:hunter2@up.example/y?token=s3cr3t'));
        return { status: 200, cacheStatus: 'BYPASS', headers: { 'content-type': 'text/plain' }, body: 'served' };
      },
    };
  },
};
`;

describe('the last line of defence (real `cacheforge start`)', function () {
  this.timeout(30_000);
  let dir: string;
  let cli: CliProcess;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-guard-'));
    await writeFile(path.join(dir, 'buggy.mjs'), BUGGY_PLUGIN);
    const file = path.join(dir, 'cacheforge.config.json');
    await writeFile(file, JSON.stringify({
      log: { level: 'info' },
      storage: { filesystem: { path: path.join(dir, 'blobs') } }, metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
      plugins: [path.join(dir, 'buggy.mjs')],
      remotes: { bug: { type: 'buggy', upstream: 'http://127.0.0.1:9/' } },
    }));
    cli = await spawnCacheForge(file);
  });
  after(async () => { await cli?.stop(); await rm(dir, { recursive: true, force: true }); });

  it('an error that escapes a request is logged once, redacted, counted, and the process keeps serving', async () => {
    for (let i = 0; i < 3; i++) expect((await request(`${cli.url}/bug/anything`)).status).to.equal(200);
    const escapes = () => cli.output().split('\n').filter((l) => l.includes('escaped a request'));
    await waitFor('six escapes logged', () => escapes().length === 6);
    expect(cli.child.exitCode).to.equal(null);
    expect((await request(`${cli.url}/-/health`)).status).to.equal(200);
    const metrics = (await request(`${cli.url}/-/metrics`)).body.toString();
    expect(metrics).to.match(/^cacheforge_uncaught_errors_total 6$/m);
    const lines = escapes().map((l) => JSON.parse(l) as { kind: string; reason: string });
    expect(lines.filter((l) => l.kind === 'uncaughtException')).to.have.length(3);
    expect(lines.filter((l) => l.kind === 'unhandledRejection')).to.have.length(3);
    expect(lines[0]!.reason).to.contain('http://up.example/');
    expect(cli.output()).to.not.include('hunter2');
    expect(cli.output()).to.not.include('s3cr3t');
  });
});
