import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogCapture, ManualClock, request, run, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { CrateRegistry, DEBIAN_REGISTRY, missingCrateSources, RUSTUP_CARGO, type CrateSpec } from './support/crate-registry.js';
import { CARGO_165, CARGO_195, cargoHome, clientMissing, runCargo, writeApp, type CargoClient } from './support/cargo-client.js';

const FNV = `${DEBIAN_REGISTRY}/fnv-1.0.7`;
const ITOA = `${DEBIAN_REGISTRY}/itoa-1.0.1`;
const SPECS: CrateSpec[] = [
  { dir: FNV },
  { dir: ITOA },
  // An older fnv, yanked: kept for lockfiles that have it, never picked afresh.
  { dir: FNV, version: '1.0.6', yanked: true },
  // Listed with the cksum of its true bytes, served altered.
  { dir: FNV, name: 'cf-tampered', version: '0.1.0', tamper: true },
];
const MAIN = `use std::hash::Hasher;
fn main() {
    let mut h = fnv::FnvHasher::default();
    h.write(b"cache");
    let mut buf = itoa::Buffer::new();
    println!("{} {}", buf.format(42u32), h.finish() != 0);
}
`;
const clock = new ManualClock();

/** What one cargo does in these tests: its own remote (so it fills the cache itself), home and target. */
interface Lane { client: CargoClient; remote: string; app: string; home: string; target: string }

describe('plugin-cargo: real cargo through Cache Forge against a sparse registry on two loopback hosts', function () {
  this.timeout(900_000);
  let registry: CrateRegistry;
  let cf: RunningCacheForge;
  let work: string;
  const log = new LogCapture();
  const lanes = new Map<CargoClient, Lane>();

  before(async function () {
    if (!existsSync(RUSTUP_CARGO)) skipMissing(this, 'cargo', `${RUSTUP_CARGO} is missing; install rustup`);
    const missing = missingCrateSources(SPECS);
    if (missing) skipMissing(this, missing, 'apt-get install librust-fnv-dev librust-itoa-dev');
    registry = await CrateRegistry.start(SPECS);
    const remote = { type: 'cargo', upstream: registry.indexUrl, downloads: registry.downloadsHost, client: { retries: 0 } };
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-cargo'],
      remotes: { crates: remote, crates165: remote, nodl: { type: 'cargo', upstream: registry.indexUrl } },
    }, { clock, logTo: log, logLevel: 'info' });
    work = await mkdtemp(path.join(tmpdir(), 'cf-cargo-'));
  });
  after(async () => {
    await cf?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function lane(ctx: Mocha.Context, client: CargoClient, remote: string): Promise<Lane> {
    if (clientMissing(client)) skipMissing(ctx, client.label, `${client.program} is missing; ${client.install}`);
    let found = lanes.get(client);
    if (!found) {
      const dir = path.join(work, remote);
      found = {
        client, remote, app: await writeApp(path.join(dir, 'app'), ['fnv = "1"', 'itoa = "1"'], MAIN),
        home: await cargoHome(path.join(dir, 'home'), `${cf.url}/${remote}/`), target: path.join(dir, 'target'),
      };
      lanes.set(client, found);
    }
    return found;
  }

  function served(path: string): { status: number; cache: unknown }[] {
    return log.requests.filter((l) => l.path === path).map((l) => ({ status: l.status as number, cache: l.cache }));
  }

  for (const [client, remote] of [[CARGO_195, 'crates'], [CARGO_165, 'crates165']] as const) {
    it(`${client.label}: builds a program on fnv and itoa, index and downloads on two upstream hosts`, async function () {
      const l = await lane(this, client, remote);
      const r = await runCargo(client, ['build'], { cwd: l.app, home: l.home, target: l.target });
      expect(r.code, r.output).to.equal(0);
      expect(r.output).to.match(/Downloaded fnv v1\.0\.7/);
      const { stdout } = await run(path.join(l.target, 'debug', 'app'), []);
      expect(stdout.trim()).to.equal('42 true');
      // cargo checked our bytes against the index line: the lockfile holds the fixture's cksum.
      const lock = await readFile(path.join(l.app, 'Cargo.lock'), 'utf8');
      expect(lock).to.include(`checksum = "${registry.crate('fnv', '1.0.7').cksum}"`);
      expect(lock).to.include('version = "1.0.7"');
      expect(registry.lines()).to.include('downloads GET /files/3/f/fnv/fnv-1.0.7.crate 200');
      expect(served(`/${remote}/crates/itoa/1.0.1/download`).map((s) => s.cache)).to.include('MISS');
    });

    it(`${client.label}: cargo update revalidates the index and gets 304s; the cache revalidates upstream with its validators`, async function () {
      const l = await lane(this, client, remote);
      await cf.fillsSettled();
      clock.advance(10 * 60_000);
      const before = registry.seen.length;
      const r = await runCargo(client, ['update'], { cwd: l.app, home: l.home, target: l.target });
      expect(r.code, r.output).to.equal(0);
      const upstream = registry.seen.slice(before).filter((s) => s.path.startsWith('/index/3/f/fnv') || s.path.startsWith('/index/it/oa/itoa'));
      expect(upstream.length, registry.lines().join('\n')).to.be.greaterThan(0);
      expect(upstream.every((s) => s.conditional && s.status === 304), JSON.stringify(upstream)).to.equal(true);
      expect(served(`/${remote}/3/f/fnv`).map((s) => s.status)).to.include(304);
      expect(served(`/${remote}/it/oa/itoa`).map((s) => s.status)).to.include(304);
    });

    it(`${client.label}: a lockfile pinning a yanked version still builds; the index says yanked as the upstream did`, async function () {
      const l = await lane(this, client, remote);
      const dir = await writeApp(path.join(work, remote, 'yanked'), ['fnv = "1"'], 'fn main() { let _ = fnv::FnvHasher::default(); }\n');
      const old = registry.crate('fnv', '1.0.6');
      await writeFile(path.join(dir, 'Cargo.lock'), [
        'version = 3', '', '[[package]]', 'name = "app"', 'version = "0.1.0"', 'dependencies = [', ' "fnv",', ']', '',
        '[[package]]', 'name = "fnv"', 'version = "1.0.6"', 'source = "registry+https://github.com/rust-lang/crates.io-index"', `checksum = "${old.cksum}"`, '',
      ].join('\n'));
      const r = await runCargo(client, ['build', '--locked'], { cwd: dir, home: l.home, target: l.target });
      expect(r.code, r.output).to.equal(0);
      expect(r.output).to.match(/fnv v1\.0\.6/);
      const index = await request(`${cf.url}/${remote}/3/f/fnv`);
      expect(index.body.toString()).to.include(old.line);
    });

    it(`${client.label}: a crate whose bytes differ from its index cksum is refused, each time, and never stored`, async function () {
      const l = await lane(this, client, remote);
      const dir = await writeApp(path.join(work, remote, 'tampered'), ['cf-tampered = "0.1"'], 'fn main() {}\n');
      const r = await runCargo(client, ['fetch'], { cwd: dir, home: l.home, target: l.target });
      expect(r.code, r.output).to.not.equal(0);
      expect(r.output).to.match(/502/);
      const file = '/files/cf/-t/cf-tampered/cf-tampered-0.1.0.crate';
      for (let i = 0; i < 2; i++) {
        const fetched = registry.seen.filter((s) => s.path === file).length;
        const res = await request(`${cf.url}/${remote}/crates/cf-tampered/0.1.0/download`);
        expect(res.status).to.equal(502);
        expect(res.body.toString()).to.include('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
        // Asked of the upstream again: nothing of the first attempt was kept.
        expect(registry.seen.filter((s) => s.path === file).length).to.be.greaterThan(fetched);
      }
    });
  }

  it('cargo 1.95 takes the remote as CARGO_REGISTRIES_<NAME>_INDEX, crates.io replaced by it with --config (no config.toml)', async function () {
    const l = await lane(this, CARGO_195, 'crates');
    const home = path.join(work, 'env-home');
    await mkdir(home, { recursive: true });
    const env = { CARGO_REGISTRIES_CACHEFORGE_INDEX: `sparse+${cf.url}/crates/`, CARGO_NET_RETRY: '0' };
    const r = await runCargo(CARGO_195, ['--config', 'source.crates-io.replace-with="cacheforge"', 'fetch'], { cwd: l.app, home, target: l.target, env });
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/Downloaded (fnv|itoa) v1\.0\.\d+ \(registry `cacheforge`\)/);
  });

  it('config.json is served with dl and api pointing at the remote, markers kept for cargo to fill', async () => {
    const res = await request(`${cf.url}/crates/config.json`);
    expect(res.status).to.equal(200);
    const config = JSON.parse(res.body.toString()) as { dl: string; api: string };
    expect(config.dl).to.equal(`${cf.url}/crates/crates/{crate}/{version}/download`);
    expect(config.api).to.equal(`${cf.url}/crates`);
  });

  it('a download host the remote does not name is refused, and the remote says which key admits it', async () => {
    const before = registry.seen.filter((s) => s.server === 'downloads').length;
    const res = await request(`${cf.url}/nodl/crates/fnv/1.0.7/download`);
    expect(res.status).to.equal(403);
    expect(res.body.toString()).to.include(`downloads: ${registry.downloadsHost}`);
    expect(registry.seen.filter((s) => s.server === 'downloads').length).to.equal(before);
  });

  it('cargo search is relayed through the api; yank and owner are refused naming the registry to use', async function () {
    const l = await lane(this, CARGO_195, 'crates');
    const env = { CARGO_REGISTRIES_CACHEFORGE_INDEX: `sparse+${cf.url}/crates/` };
    const search = await runCargo(CARGO_195, ['search', 'fnv', '--registry', 'cacheforge'], { cwd: work, home: l.home, target: l.target, env });
    expect(search.code, search.output).to.equal(0);
    expect(search.output).to.include('fnv = "1.0.7"');
    for (const args of [['yank', 'fnv@1.0.7'], ['owner', '--list', 'fnv']]) {
      const r = await runCargo(CARGO_195, [...args, '--registry', 'cacheforge', '--token', 'x'], { cwd: work, home: l.home, target: l.target, env });
      expect(r.code, r.output).to.not.equal(0);
      expect(r.output).to.include('mirrors the registry read-only');
      expect(r.output).to.include(`sparse+${registry.indexUrl}`);
    }
    const publish = await request(`${cf.url}/crates/api/v1/crates/new`, { method: 'PUT' });
    expect(publish.status).to.equal(405);
    expect(JSON.parse(publish.body.toString()).errors[0].detail).to.include('publish to the registry itself');
  });

  for (const [client, remote] of [[CARGO_195, 'crates'], [CARGO_165, 'crates165']] as const) {
    it(`${client.label}: with both upstream hosts stopped, a clean CARGO_HOME builds the locked program again; the index is STALE`, async function () {
      const l = await lane(this, client, remote);
      await cf.fillsSettled();
      await registry.stop();
      clock.advance(24 * 3600_000);
      const home = await cargoHome(path.join(work, remote, 'offline-home'), `${cf.url}/${remote}/`);
      const r = await runCargo(client, ['build', '--locked'], { cwd: l.app, home, target: path.join(work, remote, 'offline-target') });
      expect(r.code, r.output).to.equal(0);
      expect(r.output).to.match(/Downloaded fnv v1\.0\.7/);
      expect(served(`/${remote}/3/f/fnv`).map((s) => s.cache)).to.include('STALE');
      const { stdout } = await run(path.join(work, remote, 'offline-target', 'debug', 'app'), []);
      expect(stdout.trim()).to.equal('42 true');
    });
  }
});
