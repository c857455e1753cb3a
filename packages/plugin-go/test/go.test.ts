import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogCapture, ManualClock, request, type LogLine, requirePrograms, runClient, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { GOCODE, GoFixture, missingFixtureParts, type ModuleSpec } from './support/go-fixture.js';

const ERRORS = `${GOCODE}/src/github.com/pkg/errors`;
const TOML = `${GOCODE}/src/github.com/BurntSushi/toml`;
const MODULES: ModuleSpec[] = [
  { Dir: ERRORS, Path: 'github.com/pkg/errors', Version: 'v0.9.1', Time: '2020-01-14T19:47:44Z' },
  { Dir: TOML, Path: 'github.com/BurntSushi/toml', Version: 'v1.2.0', Time: '2022-06-08T10:00:00Z' },
  // Recorded by the checksum database, then altered: what a compromised upstream would serve.
  { Dir: ERRORS, Path: 'cf.test/tampered', Version: 'v1.0.0', Time: '2021-01-01T00:00:00Z', Tamper: true },
];
const MAIN = `package main

import (
\t"fmt"

\t"github.com/BurntSushi/toml"
\t"github.com/pkg/errors"
)

func main() {
\tvar v struct{ A int }
\t_, err := toml.Decode("A = 1", &v)
\tfmt.Println(v.A, errors.Wrap(err, "x") == nil)
}
`;
const clock = new ManualClock();
const logs = new LogCapture();

describe('plugin-go: real go through Cache Forge against a local module proxy and checksum database', function () {
  this.timeout(600_000);
  let fixture: GoFixture;
  let cf: RunningCacheForge;
  let work: string;
  let runs = 0;

  before(async function () {
    requirePrograms(this, ['go'], () => 'apt-get install golang-go');
    const missing = missingFixtureParts(MODULES);
    if (missing) skipMissing(this, missing, 'apt-get install golang-golang-x-mod-dev golang-github-pkg-errors-dev golang-github-burntsushi-toml-dev');
    fixture = await GoFixture.start(MODULES);
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-go'],
      remotes: {
        go: { type: 'go', upstream: fixture.proxyUrl, sumdb: fixture.sumdbUrl, sumdbKey: fixture.verifierKey, client: { retries: 0 } },
        private: { type: 'go', upstream: fixture.proxyUrl, sumdb: fixture.sumdbUrl, sumdbKey: fixture.verifierKey, noSumCheck: ['cf.test/*'] },
        nosum: { type: 'go', upstream: fixture.proxyUrl },
      },
      log: { requests: true },
    }, { clock, logLevel: 'info', logTo: logs });
    work = await mkdtemp(path.join(tmpdir(), 'cf-go-'));
  });
  after(async () => {
    await cf?.cleanup();
    await fixture?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** go with a fresh module cache per call unless `cache` names one; GOSUMDB is the fixture's key, reached through the proxy. */
  async function go(args: string[], options: { cwd?: string; cache?: string; flags?: string; buildCache?: string } = {}) {
    const home = path.join(work, `run-${++runs}`);
    await mkdir(home, { recursive: true });
    const env = {
      PATH: process.env.PATH, HOME: home, GOPROXY: `${cf.url}/go`, GOSUMDB: fixture.verifierKey, GOENV: 'off', GOTOOLCHAIN: 'local',
      GOFLAGS: options.flags ?? '-modcacherw', GOMODCACHE: options.cache ?? path.join(home, 'modcache'), GOPATH: path.join(home, 'gopath'),
      GOCACHE: options.buildCache ?? path.join(work, 'gocache'), GONOPROXY: '', GOPRIVATE: '', GONOSUMDB: '', GONOSUMCHECK: '', GOINSECURE: '',
    };
    return runClient('go', args, { cwd: options.cwd ?? home, env, timeoutMs: 240_000 });
  }

  it('go mod download fetches a module and checks it with the checksum database, both through the proxy', async () => {
    const r = await go(['mod', 'download', '-json', 'github.com/pkg/errors@v0.9.1']);
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.include('"Sum": "h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk="');
    expect(r.output).to.include('"GoModSum": "h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0="');
    const seen = fixture.seen();
    expect(seen).to.include('GET /proxy/github.com/pkg/errors/@v/v0.9.1.zip');
    expect(seen).to.include('GET /sumdb/sum.cf.test/lookup/github.com/pkg/errors@v0.9.1');
  });

  it('go get with and without a version, then go build, in a module importing both (upper-case path escaped)', async () => {
    const dir = path.join(work, 'app');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'go.mod'), 'module example.com/app\n\ngo 1.19\n');
    await writeFile(path.join(dir, 'main.go'), MAIN);
    const cache = path.join(work, 'app-cache');
    const get = await go(['get', 'github.com/BurntSushi/toml', 'github.com/pkg/errors@v0.9.1'], { cwd: dir, cache });
    expect(get.code, get.output).to.equal(0);
    expect(fixture.seen()).to.include('GET /proxy/github.com/!burnt!sushi/toml/@v/list');
    const build = await go(['build', '-o', path.join(dir, 'app'), '.'], { cwd: dir, cache });
    expect(build.code, build.output).to.equal(0);
    // The probes of path prefixes that are no modules were answered 404, which go takes as "not here".
    const probe = await request(`${cf.url}/go/github.com/@v/list`);
    expect(probe.status).to.equal(404);
  });

  it('go build with -mod=mod resolves the go.mod requirements and writes go.sum itself', async () => {
    const dir = path.join(work, 'modmod');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'go.mod'), 'module example.com/modmod\n\ngo 1.19\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.2.0\n\tgithub.com/pkg/errors v0.9.1\n)\n');
    await writeFile(path.join(dir, 'main.go'), MAIN);
    const r = await go(['build', '-o', path.join(dir, 'app'), '.'], { cwd: dir, flags: '-modcacherw -mod=mod' });
    expect(r.code, r.output).to.equal(0);
  });

  it('a module zip altered after the checksum database recorded it is refused, each time it is asked for', async () => {
    const r = await go(['mod', 'download', 'cf.test/tampered@v1.0.0']);
    expect(r.code, r.output).to.not.equal(0);
    for (let i = 0; i < 2; i++) {
      const zip = await request(`${cf.url}/go/cf.test/tampered/@v/v1.0.0.zip`);
      expect(zip.status).to.equal(502);
      expect(zip.body.toString()).to.include('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
    }
    // Its go.mod is untouched and matches its record.
    expect((await request(`${cf.url}/go/cf.test/tampered/@v/v1.0.0.mod`)).status).to.equal(200);
  });

  it('modules matched by noSumCheck, and every module of a remote without sumdb, are stored on length', async () => {
    expect((await request(`${cf.url}/private/cf.test/tampered/@v/v1.0.0.zip`)).status).to.equal(200);
    expect((await request(`${cf.url}/private/github.com/pkg/errors/@v/v0.9.1.zip`)).status).to.equal(200);
    expect((await request(`${cf.url}/nosum/cf.test/tampered/@v/v1.0.0.zip`)).status).to.equal(200);
    // Without a database of its own, the proxy tells go to ask the database directly.
    expect((await request(`${cf.url}/nosum/sumdb/sum.cf.test/supported`)).status).to.equal(404);
    expect((await request(`${cf.url}/go/sumdb/sum.golang.org/supported`)).status).to.equal(404);
    expect((await request(`${cf.url}/go/sumdb/sum.cf.test/supported`)).status).to.equal(200);
  });

  it('with the upstream stopped, a clean module cache fills again and version lists are served STALE', async () => {
    await cf.fillsSettled();
    await fixture.stop();
    clock.advance(24 * 3600_000);
    const r = await go(['mod', 'download', '-json', 'github.com/pkg/errors@v0.9.1', 'github.com/BurntSushi/toml@v1.2.0']);
    expect(r.code, r.output).to.equal(0);
    const list = await request(`${cf.url}/go/github.com/!burnt!sushi/toml/@v/list`);
    expect(list.status).to.equal(200);
    expect(list.body.toString()).to.equal('v1.2.0\n');
    expect(list.headers['x-cache-status']).to.equal('STALE');
  });

  /** What the cache answered go for paths matching `pattern` since `from` (the access log; go sends `!` as `%21`). */
  const served = (from: number, pattern: RegExp) => logs.requests.slice(from)
    .map((l): LogLine => ({ ...l, path: decodeURIComponent(String(l.path)) })).filter((l) => pattern.test(String(l.path)));

  it('with the upstream stopped, go build -mod=mod builds from the stored modules into a clean module and build cache', async () => {
    const dir = path.join(work, 'offline-build');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'go.mod'), 'module example.com/offline\n\ngo 1.19\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.2.0\n\tgithub.com/pkg/errors v0.9.1\n)\n');
    await writeFile(path.join(dir, 'main.go'), MAIN);
    const from = logs.requests.length;
    const binary = path.join(dir, 'offline');
    const r = await go(['build', '-o', binary, '.'], { cwd: dir, flags: '-modcacherw -mod=mod', buildCache: path.join(dir, 'gocache') });
    expect(r.code, r.output).to.equal(0);
    // go wrote go.sum itself, from the database's records the cache still holds.
    expect(await readFile(path.join(dir, 'go.sum'), 'utf8')).to.include('github.com/pkg/errors v0.9.1 h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk=');
    const ran = await runClient(binary, [], { cwd: dir, env: { PATH: process.env.PATH } });
    expect(ran.output.trim().split('\n').at(-1)).to.equal('1 true');
    const zips = served(from, /\/go\/.*\.zip$/);
    expect(zips.map((l) => l.path)).to.include.members(['/go/github.com/!burnt!sushi/toml/@v/v1.2.0.zip', '/go/github.com/pkg/errors/@v/v0.9.1.zip']);
    expect(zips.every((l) => l.status === 200 && l.cache === 'HIT')).to.equal(true);
    // The records go checked them with were kept longer than their 10 minutes: served STALE.
    const lookups = served(from, /\/go\/sumdb\/sum\.cf\.test\/lookup\//);
    expect(lookups.length).to.be.greaterThan(0);
    expect(lookups.every((l) => l.status === 200 && l.cache === 'STALE'), JSON.stringify(lookups)).to.equal(true);
  });

  it('with the upstream stopped, go list -m -versions is answered from the stored version list, STALE', async () => {
    const dir = path.join(work, 'offline-build');
    const from = logs.requests.length;
    const r = await go(['list', '-m', '-versions', 'github.com/BurntSushi/toml'], { cwd: dir, flags: '-modcacherw -mod=mod' });
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/^github\.com\/BurntSushi\/toml v1\.2\.0$/m);
    const lists = served(from, /\/go\/github\.com\/!burnt!sushi\/toml\/@v\/list$/);
    expect(lists.map((l) => [l.status, l.cache])).to.deep.equal([[200, 'STALE']]);
  });
});
