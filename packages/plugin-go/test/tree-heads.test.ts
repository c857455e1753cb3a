import { expect } from 'chai';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  LogCapture, ManualClock, request, requirePrograms, runClient, skipMissing, startCacheForge, type RunningCacheForge,
} from '@cacheforge/core/testing';
import { GOCODE, GoFixture, missingFixtureParts, type ModuleSpec } from './support/go-fixture.js';

const ERRORS = `${GOCODE}/src/github.com/pkg/errors`;
const TOML = `${GOCODE}/src/github.com/BurntSushi/toml`;
const MODULES: ModuleSpec[] = [
  { Dir: ERRORS, Path: 'github.com/pkg/errors', Version: 'v0.9.1', Time: '2020-01-14T19:47:44Z' },
  { Dir: TOML, Path: 'github.com/BurntSushi/toml', Version: 'v1.2.0', Time: '2022-06-08T10:00:00Z' },
  // Looked up for the first time while the database serves another tree.
  { Dir: ERRORS, Path: 'cf.test/after-fork', Version: 'v1.0.0', Time: '2021-01-01T00:00:00Z' },
  { Dir: ERRORS, Path: 'cf.test/after-restart', Version: 'v1.0.0', Time: '2021-01-01T00:00:00Z' },
];
/** Past the proxy's reuse of the database's `latest` (one minute). */
const PAST_LATEST_TTL = 61_000;
const REFUSED = 'checksum database tree refused';

/** The size a signed tree head announces (`go.sum database tree\n<size>\n...`). */
const sizeOf = (note: Buffer) => Number(note.toString().split('\n')[1]);

describe('plugin-go: successive tree heads of the checksum database, checked as the go command checks them', function () {
  this.timeout(600_000);
  const clock = new ManualClock();
  let fixture: GoFixture;
  let cf: RunningCacheForge;
  let logs: LogCapture;
  let work: string;
  let runs = 0;

  async function startCache(dataDir?: string) {
    logs = new LogCapture();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-go'],
      remotes: { go: { type: 'go', upstream: fixture.proxyUrl, sumdb: fixture.sumdbUrl, sumdbKey: fixture.verifierKey, client: { retries: 0 } } },
    }, { clock, dataDir, logLevel: 'warn', logTo: logs });
  }

  before(async function () {
    requirePrograms(this, ['go'], () => 'apt-get install golang-go');
    const missing = missingFixtureParts(MODULES);
    if (missing) skipMissing(this, missing, 'apt-get install golang-golang-x-mod-dev golang-github-pkg-errors-dev golang-github-burntsushi-toml-dev');
    fixture = await GoFixture.start(MODULES);
    await startCache();
    work = await mkdtemp(path.join(tmpdir(), 'cf-go-trees-'));
  });
  after(async () => {
    await cf?.cleanup();
    await fixture?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** `go mod download` into a fresh module cache, checking with the fixture's database through the proxy. */
  async function download(module: string) {
    const home = path.join(work, `run-${++runs}`);
    await mkdir(home, { recursive: true });
    const env = {
      PATH: process.env.PATH, HOME: home, GOPROXY: `${cf.url}/go`, GOSUMDB: fixture.verifierKey, GOENV: 'off', GOTOOLCHAIN: 'local',
      GOFLAGS: '-modcacherw', GOMODCACHE: path.join(home, 'modcache'), GOPATH: path.join(home, 'gopath'), GOCACHE: path.join(home, 'gocache'),
      GONOPROXY: '', GOPRIVATE: '', GONOSUMDB: '', GONOSUMCHECK: '', GOINSECURE: '',
    };
    return runClient('go', ['mod', 'download', '-json', module], { cwd: home, env, timeoutMs: 240_000 });
  }

  /** The proxy's `latest`, once the one it holds is older than its reuse time. */
  async function latest() {
    await cf.fillsSettled();
    clock.advance(PAST_LATEST_TTL);
    return request(`${cf.url}/go/sumdb/sum.cf.test/latest`);
  }

  const refusals = () => logs.lines.filter((l) => String(l.msg).startsWith(REFUSED));

  let honest: Buffer;

  it('a tree that grows is accepted: each newer head is proved to hold the one before', async () => {
    const a = await download('github.com/pkg/errors@v0.9.1');
    expect(a.code, a.output).to.equal(0);
    const first = await latest();
    expect(first.status).to.equal(200);
    const b = await download('github.com/BurntSushi/toml@v1.2.0');
    expect(b.code, b.output).to.equal(0);
    const grown = await latest();
    expect(grown.status).to.equal(200);
    expect(grown.headers['x-cache-status']).to.not.equal('STALE');
    expect(sizeOf(grown.body)).to.equal(2);
    expect(sizeOf(first.body)).to.equal(1);
    expect(refusals()).to.deep.equal([]);
    honest = grown.body;
  });

  it('a different tree of the same size, signed by the same key, is refused and nothing is verified against it', async () => {
    await fixture.serveTree({ keep: 1, forge: 1 });
    const forked = await latest();
    // The forked head is never stored or shown: the last good one is served in its place.
    expect(forked.status).to.equal(200);
    expect(forked.headers['x-cache-status']).to.equal('STALE');
    expect(forked.body.equals(honest)).to.equal(true);
    expect(refusals().length).to.be.greaterThan(0);
    // A module first looked up on the fork (which grows it to 3 records): go fails at once, with the reason.
    const r = await download('cf.test/after-fork@v1.0.0');
    expect(r.code, r.output).to.not.equal(0);
    expect(r.output).to.match(/502 Bad Gateway/);
    for (let i = 0; i < 2; i++) {
      for (const file of ['cf.test/after-fork/@v/v1.0.0.zip', 'cf.test/after-fork/@v/v1.0.0.mod', 'sumdb/sum.cf.test/lookup/cf.test/after-fork@v1.0.0']) {
        const answer = await request(`${cf.url}/go/${file}`);
        expect(answer.status, file).to.equal(502);
        expect(answer.body.toString(), file).to.include('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
        expect(answer.body.toString(), file).to.include('is not a prefix of');
      }
    }
    const logged = refusals().at(-1)!;
    expect(logged).to.include({ sumdb: 'sum.cf.test', code: 'CF_ERR_UPSTREAM_DIGEST_MISMATCH', level: 'error' });
  });

  it('a larger tree that does not hold the last one is refused', async () => {
    await fixture.serveTree({ keep: -1, forge: 1 });
    const before = refusals().length;
    const forked = await latest();
    expect(forked.headers['x-cache-status']).to.equal('STALE');
    expect(forked.body.equals(honest)).to.equal(true);
    expect(refusals().length).to.be.greaterThan(before);
    expect((await request(`${cf.url}/go/cf.test/after-fork/@v/v1.0.0.zip`)).status).to.equal(502);
  });

  it('a latest that goes back to an older tree is refused', async () => {
    await fixture.serveTree({ keep: 1, forge: 0 });
    const back = await latest();
    expect(back.headers['x-cache-status']).to.equal('STALE');
    expect(back.body.equals(honest)).to.equal(true);
    expect(String(refusals().at(-1)?.msg)).to.include('went back');
  });

  it('the true tree again: the module verifies, the tiles the fork left in the cache are fetched again', async () => {
    await fixture.serveTree('honest');
    const r = await download('cf.test/after-fork@v1.0.0');
    expect(r.code, r.output).to.equal(0);
    const now = await latest();
    expect(now.headers['x-cache-status']).to.not.equal('STALE');
    expect(sizeOf(now.body)).to.equal(3);
  });

  it('the timeline survives a restart: a fork is refused by a cache that starts again on the same data', async () => {
    await cf.fillsSettled();
    await cf.stop();
    await startCache(cf.dataDir);
    await fixture.serveTree({ keep: -1, forge: 1 });
    const r = await download('cf.test/after-restart@v1.0.0');
    expect(r.code, r.output).to.not.equal(0);
    expect(r.output).to.match(/502 Bad Gateway/);
    expect(refusals().length).to.be.greaterThan(0);
    await fixture.serveTree('honest');
    const again = await download('cf.test/after-restart@v1.0.0');
    expect(again.code, again.output).to.equal(0);
  });
});
