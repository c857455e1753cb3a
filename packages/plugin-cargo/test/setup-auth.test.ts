import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogCapture, request, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import cargo from '../src/index.js';
import { CrateRegistry, DEBIAN_REGISTRY, missingCrateSources, RUSTUP_CARGO, type CrateSpec } from './support/crate-registry.js';
import { CARGO_195, runCargo, writeApp } from './support/cargo-client.js';

const ADMIN = 'cargo-setup-test-admin-token-0123456789';
const SPECS: CrateSpec[] = [{ dir: `${DEBIAN_REGISTRY}/fnv-1.0.7` }];

interface Setup { tokenRequired: boolean; snippets: { client: string; file?: string; text: string }[] }

describe('plugin-cargo: the config.toml /-/setup serves, driven by real cargo 1.95', function () {
  this.timeout(600_000);
  let registry: CrateRegistry;
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
    if (!existsSync(RUSTUP_CARGO)) skipMissing(this, 'cargo', `${RUSTUP_CARGO} is missing; install rustup`);
    const missing = missingCrateSources(SPECS);
    if (missing) skipMissing(this, missing, 'apt-get install librust-fnv-dev');
    registry = await CrateRegistry.start(SPECS);
    cf = await startCacheForge({
      auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-cargo'], log: { requests: true },
      remotes: {
        crates: { type: 'cargo', upstream: registry.indexUrl, downloads: registry.downloadsHost, client: { retries: 0 } },
        other: { type: 'cargo', upstream: registry.indexUrl, downloads: registry.downloadsHost, client: { retries: 0 } },
      },
    }, { logTo: log, logLevel: 'debug' });
    token = await makeToken('cargo-ci', ['crates']);
    otherToken = await makeToken('cargo-other', ['other']);
    const res = await fetch(`${cf.url}/-/api/v1/remotes/crates/setup`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    setup = await res.json() as Setup;
    work = await mkdtemp(path.join(tmpdir(), 'cf-cargo-setup-'));
  });
  after(async () => {
    await cf?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const snippet = (file: string) => setup.snippets.find((s) => s.file === file)!.text;

  /** A clean CARGO_HOME with the served config.toml (and credentials.toml, the placeholder replaced by `secret`), then `cargo build`. */
  async function build(secret: string | undefined) {
    const dir = path.join(work, `run-${++runs}`);
    const home = path.join(dir, 'home');
    await mkdir(home, { recursive: true });
    await writeFile(path.join(home, 'config.toml'), `${snippet('~/.cargo/config.toml')}\n[net]\nretry = 0\n`);
    if (secret) await writeFile(path.join(home, 'credentials.toml'), snippet('~/.cargo/credentials.toml').replace('<TOKEN>', secret));
    const app = await writeApp(path.join(dir, 'app'), ['fnv = { version = "1", registry = "crates" }'], 'fn main() { let _ = fnv::FnvHasher::default(); }\n');
    return runCargo(CARGO_195, ['build'], { cwd: app, home, target: path.join(dir, 'target') });
  }

  it('serves a named registry with the cargo:token provider, and the token in credentials.toml as a placeholder', () => {
    expect(setup.tokenRequired).to.equal(true);
    const config = snippet('~/.cargo/config.toml');
    expect(config).to.contain(`[registries.crates]\nindex = "sparse+${cf.url}/crates/"`);
    expect(config).to.contain('global-credential-providers = ["cargo:token"]');
    expect(config).to.not.contain('replace-with');
    expect(snippet('~/.cargo/credentials.toml')).to.equal('[registries.crates]\ntoken = "<TOKEN>"\n');
    expect(setup.snippets.map((s) => s.text).join('')).to.contain('CARGO_REGISTRIES_CRATES_TOKEN=<TOKEN>').and.not.contain(token);
  });

  it('the config.json cargo gets says auth-required, so cargo sends its token', async () => {
    const r = await request(`${cf.url}/crates/config.json`, { headers: { authorization: token } });
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString())).to.include({ 'auth-required': true });
  });

  it('cargo build succeeds with the served config.toml and credentials.toml, the token sent as it is', async () => {
    const r = await build(token);
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/Downloaded fnv v1\.0\.7/);
  });

  it('without a token, cargo is refused with a 401', async () => {
    const from = log.requests.length;
    const r = await build(undefined);
    expect(r.code).to.not.equal(0);
    expect(r.output).to.match(/401|no token found/);
    expect(log.requests.slice(from).some((l) => l.status === 401)).to.equal(true);
  });

  it('with a token limited to another remote, cargo is refused with a 403', async () => {
    const r = await build(otherToken);
    expect(r.code).to.not.equal(0);
    expect(r.output).to.match(/403/);
  });

  it('no token ever appears in the log', () => {
    const text = log.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [token, otherToken, ADMIN]) expect(text).to.not.contain(secret);
  });

  it('a remote that mirrors crates.io replaces the crates-io source with its registry', () => {
    const [config] = cargo.clientSetup!({ name: 'crates', upstream: new URL('https://index.crates.io/'), options: {} }, { base: new URL('http://cache.lan:8080/crates/') });
    expect(config!.text).to.equal('[source.crates-io]\nreplace-with = "crates"\n\n[registries.crates]\nindex = "sparse+http://cache.lan:8080/crates/"\n');
  });
});
