import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogCapture, requirePrograms, runClient, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import go from '../src/index.js';
import { GOCODE, GoFixture, missingFixtureParts, type ModuleSpec } from './support/go-fixture.js';
import { TlsFront } from './support/tls-front.js';

const ADMIN = 'go-setup-test-admin-token-0123456789';
const MODULES: ModuleSpec[] = [{ Dir: `${GOCODE}/src/github.com/pkg/errors`, Path: 'github.com/pkg/errors', Version: 'v0.9.1', Time: '2020-01-14T19:47:44Z' }];

interface Setup { tokenRequired: boolean; snippets: { client: string; file?: string; text: string }[] }

/** The `export K=V` lines of a shell snippet, as an environment (quotes taken off). */
function exported(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export (\w+)=(.*?)(?:\s+#.*)?$/gm)) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  return env;
}

describe('plugin-go: the GOPROXY and .netrc /-/setup serves, driven by real go (reads need a token, behind TLS)', function () {
  this.timeout(600_000);
  let fixture: GoFixture;
  let front: TlsFront;
  let cf: RunningCacheForge;
  let work: string;
  let token: string;
  let otherToken: string;
  let setup: Setup;
  const log = new LogCapture();
  let runs = 0;

  async function makeToken(name: string, remotes: string[]): Promise<string> {
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: ['read'], remotes }) });
    expect(res.status).to.equal(201);
    return (await res.json() as { token: string }).token;
  }

  before(async function () {
    requirePrograms(this, ['go', 'openssl'], () => 'apt-get install golang-go openssl');
    const missing = missingFixtureParts(MODULES);
    if (missing) skipMissing(this, missing, 'apt-get install golang-golang-x-mod-dev golang-github-pkg-errors-dev');
    work = await mkdtemp(path.join(tmpdir(), 'cf-go-setup-'));
    fixture = await GoFixture.start(MODULES);
    front = await TlsFront.start(work);
    const remote = { type: 'go', upstream: fixture.proxyUrl, sumdb: fixture.sumdbUrl, sumdbKey: fixture.verifierKey, client: { retries: 0 } };
    cf = await startCacheForge({
      server: { publicUrl: front.url }, auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-go'],
      remotes: { go: remote, other: remote }, log: { requests: true },
    }, { logTo: log, logLevel: 'debug' });
    front.target = cf.url;
    token = await makeToken('go-ci', ['go']);
    otherToken = await makeToken('go-other', ['other']);
    const res = await fetch(`${cf.url}/-/api/v1/remotes/go/setup`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    setup = await res.json() as Setup;
  });
  after(async () => {
    await cf?.cleanup();
    await front?.stop();
    await fixture?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** `go mod download` in a clean home with the served environment, and the served .netrc (placeholder replaced by `secret`) as NETRC. */
  async function download(secret: string | undefined) {
    const home = path.join(work, `run-${++runs}`);
    await mkdir(home, { recursive: true });
    const netrc = path.join(home, 'netrc');
    await writeFile(netrc, secret ? setup.snippets.find((s) => s.file === '~/.netrc')!.text.replace('<TOKEN>', secret) : '');
    const env = {
      PATH: process.env.PATH, HOME: home, GOENV: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-modcacherw', NETRC: netrc, SSL_CERT_FILE: front.certFile,
      GOMODCACHE: path.join(home, 'modcache'), GOPATH: path.join(home, 'gopath'), GOCACHE: path.join(home, 'gocache'), GONOPROXY: '', GOPRIVATE: '', GONOSUMDB: '',
      ...exported(setup.snippets.find((s) => s.client === 'go')!.text),
    };
    return runClient('go', ['mod', 'download', '-json', 'github.com/pkg/errors@v0.9.1'], { cwd: home, env, timeoutMs: 240_000 });
  }

  it('serves GOPROXY at the public https URL, the database key, and a .netrc line with the placeholder', () => {
    expect(setup.tokenRequired).to.equal(true);
    const env = exported(setup.snippets.find((s) => s.client === 'go')!.text);
    expect(env).to.deep.equal({ GOPROXY: `${front.url}/go`, GOSUMDB: fixture.verifierKey });
    expect(setup.snippets.find((s) => s.file === '~/.netrc')!.text).to.equal('machine 127.0.0.1 login any password <TOKEN>\n');
  });

  it('go mod download succeeds with the served GOPROXY and .netrc, the module checked through the proxied database', async () => {
    const r = await download(token);
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.include('"Sum": "h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk="');
    expect(fixture.seen().some((l) => l.includes('/lookup/github.com/pkg/errors@v0.9.1'))).to.equal(true);
  });

  it('without a token, go is refused with a 401', async () => {
    const r = await download(undefined);
    expect(r.code).to.not.equal(0);
    expect(r.output).to.match(/401 Unauthorized/);
  });

  it('with a token limited to another remote, go is refused with a 403', async () => {
    const r = await download(otherToken);
    expect(r.code).to.not.equal(0);
    expect(r.output).to.match(/403 Forbidden/);
  });

  it('no token ever appears in the log', () => {
    const text = log.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(log.requests.length).to.be.greaterThan(0);
    for (const secret of [token, otherToken, ADMIN]) expect(text).to.not.contain(secret);
  });

  it('over plain http the snippet says go needs TLS for the token; noSumCheck becomes GONOSUMDB', () => {
    const remote = { name: 'corp', upstream: new URL('https://athens.corp.example/'), options: { sumdb: 'https://sum.golang.org/', noSumCheck: ['*.corp.example', 'github.com/corp'] } };
    const [env] = go.clientSetup!(remote, { base: new URL('http://cache.lan:8080/corp/'), token: '<TOKEN>' });
    expect(exported(env!.text)).to.deep.equal({ GOPROXY: 'http://cache.lan:8080/corp', GONOSUMDB: '*.corp.example,github.com/corp' });
    expect(env!.text).to.match(/over https only/);
  });
});
