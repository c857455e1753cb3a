import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ManualClock, request, run, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { Dnf } from './support/dnf.js';
import { BASEOS, missingTool, RELEASES, RpmFixture, SIGNED, UPDATES } from './support/rpm-fixture.js';

const TTL_MS = 60_000;
const clock = new ManualClock();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('plugin-rpm: real dnf through Cache Forge against createrepo_c repositories', function () {
  this.timeout(300_000);
  let fixture: RpmFixture;
  let cf: RunningCacheForge;
  let dnf: Dnf;
  let base: string;

  before(async function () {
    const missing = missingTool();
    if (missing) skipMissing(this, missing, 'apt-get install rpm createrepo-c dnf dnf-plugins-core gnupg');
    fixture = await RpmFixture.build();
    await fixture.start();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-rpm'],
      remotes: { fedora: { type: 'rpm', upstream: fixture.url, ttl: { mutable: `${TTL_MS}ms` }, client: { retries: 0 } } },
    }, { clock });
    base = `${cf.url}/fedora/`;
    dnf = await Dnf.create();
    await dnf.repo('fixture', { baseurl: `${base}releases/$releasever/Everything/$basearch/os/` });
    await dnf.repo('updates', { baseurl: `${base}updates/$releasever/Everything/$basearch/` });
    await dnf.repo('signed', { baseurl: `${base}signed/$releasever/$basearch/os/`, repo_gpgcheck: 1, gpgkey: `${base}RPM-GPG-KEY-fixture` });
    await dnf.repo('metalink', { metalink: `${base}metalink?repo=fedora-$releasever&arch=$basearch` });
    await dnf.repo('mirrorlist', { mirrorlist: `${base}mirrorlist/$releasever/baseos` });
  });
  after(async () => {
    // dnf leaves a gpg-agent behind for a repo_gpgcheck repository; stop it by its home.
    const pubring = dnf && path.join(dnf.root('signed'), 'var/cache/dnf');
    if (pubring && existsSync(pubring)) {
      for (const entry of await readdir(pubring)) {
        if (entry.startsWith('signed')) await run('gpgconf', ['--homedir', path.join(pubring, entry, 'pubring'), '--kill', 'gpg-agent']).catch(() => undefined);
      }
    }
    await cf?.cleanup();
    await fixture?.cleanup();
    await dnf?.cleanup();
  });

  it('dnf install fetches repomd.xml, the hashed metadata and the package through the proxy, and installs it', async () => {
    const r = await dnf.run('fixture', 'one', ['install', 'hello-fixture-1.0']);
    expect(r.code, r.output).to.equal(0);
    expect(await readFile(path.join(dnf.root('one'), 'usr/share/hello-fixture/hello.txt'), 'utf8')).to.equal('hello from hello-fixture 1.0\n');
    const q = await run('rpm', ['--root', dnf.root('one'), '-q', 'hello-fixture']);
    expect(q.stdout.trim()).to.equal('hello-fixture-1.0-1.noarch');
    const seen = fixture.requests.map((x) => x.path);
    expect(seen).to.include(`${RELEASES}repodata/repomd.xml`);
    expect(seen).to.include(await fixture.metadataFile(RELEASES, 'primary'));
    expect(seen).to.include(`${RELEASES}Packages/h/hello-fixture-1.0-1.noarch.rpm`);
  });

  it('dnf download saves the exact package bytes, from the store without asking the upstream for it again', async () => {
    const before = fixture.requests.length;
    const r = await dnf.run('fixture', 'dl', ['download', `--destdir=${dnf.root('dl-out')}`, 'hello-fixture-1.0']);
    expect(r.code, r.output).to.equal(0);
    const got = await readFile(path.join(dnf.root('dl-out'), 'hello-fixture-1.0-1.noarch.rpm'));
    expect(sha256(got)).to.equal(await fixture.sha256(`${RELEASES}Packages/h/hello-fixture-1.0-1.noarch.rpm`));
    const again = fixture.requests.slice(before).map((x) => x.path);
    expect(again).to.not.include(`${RELEASES}Packages/h/hello-fixture-1.0-1.noarch.rpm`);
    expect(again.filter((p) => p.endsWith('-primary.xml.gz'))).to.deep.equal([]);
  });

  it('one remote fronts the whole tree: the updates folder works beside releases', async () => {
    const r = await dnf.run('updates', 'updates', ['install', 'hello-fixture']);
    expect(r.code, r.output).to.equal(0);
    expect(await readFile(path.join(dnf.root('updates'), 'usr/share/hello-fixture/hello.txt'), 'utf8')).to.equal('hello from hello-fixture 1.1\n');
    expect(fixture.requests.map((x) => x.path)).to.include(`${UPDATES}Packages/h/hello-fixture-1.1-1.noarch.rpm`);
  });

  it('repo_gpgcheck=1: dnf imports the key and accepts the signed repomd.xml served with its own signature', async () => {
    const r = await dnf.run('signed', 'signed', ['install', 'hello-fixture']);
    expect(r.code, r.output).to.equal(0);
    expect(existsSync(path.join(dnf.root('signed'), 'usr/share/hello-fixture/hello.txt'))).to.equal(true);
    expect(fixture.requests.map((x) => x.path)).to.include(`${SIGNED}repodata/repomd.xml.asc`);
  });

  it('a package whose bytes differ from the primary checksum is never served whole, on two tries', async () => {
    const pkg = `${RELEASES}Packages/b/broken-fixture-1.0-1.noarch.rpm`;
    for (const attempt of [1, 2]) {
      const r = await dnf.run('fixture', `broken-${attempt}`, ['download', `--destdir=${dnf.root(`broken-${attempt}-out`)}`, 'broken-fixture']);
      expect(r.code, r.output).to.not.equal(0);
      expect(existsSync(path.join(dnf.root(`broken-${attempt}-out`), 'broken-fixture-1.0-1.noarch.rpm'))).to.equal(false);
      const direct = await request(`${base}${pkg}`);
      expect(direct.status).to.equal(502);
      expect(direct.headers['x-cache-status']).to.not.equal('HIT');
    }
    expect(fixture.requests.filter((x) => x.path === pkg).length).to.be.greaterThan(1);
  });

  it('a metalink that names this cache, with the hashes of the repomd.xml it serves, is accepted by librepo', async () => {
    const r = await dnf.run('metalink', 'metalink', ['install', 'hello-fixture-1.0']);
    expect(r.code, r.output).to.equal(0);
    expect(existsSync(path.join(dnf.root('metalink'), 'usr/share/hello-fixture/hello.txt'))).to.equal(true);
  });

  it('an AlmaLinux-style mirrorlist/<version>/<repo> names this cache, and librepo fills in $basearch', async () => {
    const r = await dnf.run('mirrorlist', 'mirrorlist', ['install', 'hello-fixture-1.0']);
    expect(r.code, r.output).to.equal(0);
    expect(existsSync(path.join(dnf.root('mirrorlist'), 'usr/share/hello-fixture/hello.txt'))).to.equal(true);
    expect(fixture.requests.map((x) => x.path)).to.include(`${BASEOS}Packages/h/hello-fixture-1.0-1.noarch.rpm`);
  });

  it('upstream down: dnf makecache and install work from the store, repomd.xml served STALE', async () => {
    await cf.fillsSettled();
    await fixture.stop();
    try {
      clock.advance(TTL_MS * 2);
      const make = await dnf.run('fixture', 'offline', ['makecache']);
      expect(make.code, make.output).to.equal(0);
      const r = await dnf.run('fixture', 'offline', ['install', 'hello-fixture-1.0']);
      expect(r.code, r.output).to.equal(0);
      expect(existsSync(path.join(dnf.root('offline'), 'usr/share/hello-fixture/hello.txt'))).to.equal(true);
      const repomd = await request(`${base}${RELEASES}repodata/repomd.xml`);
      expect(repomd.status).to.equal(200);
      expect(repomd.headers['x-cache-status']).to.equal('STALE');
    } finally {
      await fixture.start();
    }
  });
});
