import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogCapture, request, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { CrateRegistry, DEBIAN_REGISTRY, missingCrateSources, RUSTUP_CARGO, type CrateSpec } from './support/crate-registry.js';
import { CARGO_165, CARGO_195, cargoHome, clientMissing, runCargo, writeApp } from './support/cargo-client.js';

const TOKEN = 'cio-private-token-9f2c41';
const SPECS: CrateSpec[] = [{ dir: `${DEBIAN_REGISTRY}/fnv-1.0.7` }];

describe('plugin-cargo: a private registry whose config.json says auth-required', function () {
  this.timeout(600_000);
  let registry: CrateRegistry;
  let cf: RunningCacheForge;
  let work: string;
  const log = new LogCapture();

  before(async function () {
    if (!existsSync(RUSTUP_CARGO)) skipMissing(this, 'cargo', `${RUSTUP_CARGO} is missing; install rustup`);
    const missing = missingCrateSources(SPECS);
    if (missing) skipMissing(this, missing, 'apt-get install librust-fnv-dev');
    // Its dl template names the crate by its checksum, which only the index line gives.
    registry = await CrateRegistry.start(SPECS, { token: TOKEN, layout: 'checksum' });
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-cargo'],
      remotes: {
        private: { type: 'cargo', upstream: registry.indexUrl, downloads: registry.downloadsHost, token: TOKEN, client: { retries: 0 } },
        tokenless: { type: 'cargo', upstream: registry.indexUrl, downloads: registry.downloadsHost, client: { retries: 0 } },
      },
    }, { logTo: log, logLevel: 'debug' });
    work = await mkdtemp(path.join(tmpdir(), 'cf-cargo-private-'));
  });
  after(async () => {
    await cf?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const client of [CARGO_195, CARGO_165]) {
    it(`${client.label} builds with no token of its own: the token goes to the index, never to the download host (dl by {sha256-checksum})`, async function () {
      if (clientMissing(client)) skipMissing(this, client.label, `${client.program} is missing; ${client.install}`);
      const before = registry.seen.length;
      const dir = path.join(work, client === CARGO_195 ? 'new' : 'old');
      const app = await writeApp(path.join(dir, 'app'), ['fnv = "1"'], 'fn main() { let _ = fnv::FnvHasher::default(); }\n');
      const home = await cargoHome(path.join(dir, 'home'), `${cf.url}/private/`);
      const r = await runCargo(client, ['build'], { cwd: app, home, target: path.join(dir, 'target') });
      expect(r.code, r.output).to.equal(0);
      expect(r.output).to.match(/Downloaded fnv v1\.0\.7/);
      const seen = registry.seen.slice(before);
      expect(seen.filter((s) => s.server === 'index').every((s) => s.authorization === TOKEN)).to.equal(true);
      // The first build fetched the crate (without the token); the second is served from the cache.
      const downloads = registry.seen.filter((s) => s.server === 'downloads');
      expect(downloads.map((s) => `${s.path} ${s.status}`)).to.deep.equal([`/sha256/${registry.crate('fnv', '1.0.7').cksum} 200`]);
      expect(downloads.every((s) => s.authorization === undefined)).to.equal(true);
    });
  }

  it('the config.json cargo gets drops auth-required (the cache authenticates upstream itself)', async () => {
    const res = await request(`${cf.url}/private/config.json`);
    const config = JSON.parse(res.body.toString()) as Record<string, unknown>;
    expect(config).to.not.have.property('auth-required');
    expect(config.dl).to.equal(`${cf.url}/private/crates/{crate}/{version}/download`);
  });

  it('a remote without the token gets the registry\'s refusal, and the token is in no log line', async () => {
    const res = await request(`${cf.url}/tokenless/3/f/fnv`);
    expect(res.status).to.equal(502);
    // In cargo's error shape, which cargo prints.
    expect(JSON.parse(res.body.toString()).errors[0].detail).to.include('upstream refused with 401 (CF_ERR_UPSTREAM_DENIED)');
    expect(registry.seen.filter((s) => s.status === 401).length).to.be.greaterThan(0);
    expect(log.lines.length).to.be.greaterThan(0);
    expect(JSON.stringify(log.lines)).to.not.include(TOKEN);
  });
});
