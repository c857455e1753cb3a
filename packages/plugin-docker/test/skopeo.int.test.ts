import { expect } from 'chai';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import type { Registry } from './support/registry.js';
import type { RegistryFront } from './support/front.js';
import { Skopeo } from './support/skopeo.js';
import { httpRequest, requireTools, SKOPEO_ACCEPT, startUpstreamFixture, tempDir, type FixtureImages, type UpstreamFixture } from './support/fixture.js';
import { layoutDigest } from './support/image.js';


/**
 * skopeo (containers/image, as in podman, buildah and CRI-O) pulls through Cache Forge from a real
 * distribution registry: by tag and by digest, a single-platform image and a multi-platform index,
 * path-prefixed and through a `registries.conf` mirror of docker.io; then with the upstream down.
 */
describe('docker: skopeo pulls through a path-prefixed mirror (real distribution upstream)', function () {
  this.timeout(180_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: UpstreamFixture;
  let registry: Registry;
  let front: RegistryFront;
  let cf: RunningCacheForge;
  let images: FixtureImages;
  let skopeo: Skopeo;
  let mirrored: Skopeo;
  let n = 0;
  const out = () => path.join(temp.dir, `out-${++n}`);

  before(async function () {
    await requireTools(this, ['skopeo', 'docker-registry', 'tar']);
    temp = await tempDir('cf-docker-skopeo-');
    ({ registry, front, images, skopeo } = upstream = await startUpstreamFixture(temp.dir));
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-docker'],
      remotes: { hub: { type: 'docker', upstream: `${front.url}/`, default: true, libraryPrefix: true, aliases: ['docker.io'], ttl: { mutable: 0 } } },
    });
    const cfHost = new URL(cf.url).host;
    mirrored = await Skopeo.create(path.join(temp.dir, 'skopeo-mirror'), [
      'unqualified-search-registries = []', 'short-name-mode = "disabled"',
      '[[registry]]', 'prefix = "docker.io"', 'location = "127.0.0.1:9"',
      '[[registry.mirror]]', `location = "${cfHost}/hub"`, 'insecure = true', '',
    ].join('\n'));
  });

  after(async () => {
    await cf?.cleanup();
    await upstream?.stop();
    await temp?.cleanup();
  });

  const proxied = (ref: string) => `docker://${new URL(cf.url).host}/hub/${ref}`;

  it('copies a single-platform image by tag; the manifest digest is the upstream one and every blob arrives', async () => {
    const dest = out();
    await skopeo.pull(proxied('fix/app:1'), dest);
    expect(await layoutDigest(dest)).to.equal(images.single.digest);
    const manifest = JSON.parse(await readFile(path.join(dest, 'blobs', 'sha256', images.single.digest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] };
    for (const layer of manifest.layers) expect((await stat(path.join(dest, 'blobs', 'sha256', layer.digest.slice(7)))).size).to.equal(layer.size);
  });

  it('copies a single-platform image by digest', async () => {
    const dest = out();
    await skopeo.pull(proxied(`fix/app@${images.single.digest}`), dest);
    expect(await layoutDigest(dest)).to.equal(images.single.digest);
  });

  it('copies a multi-platform index (--all) by tag through a registries.conf mirror of docker.io, library/ added', async () => {
    const dest = out();
    await mirrored.pull('docker://docker.io/multi:latest', dest, { all: true });
    expect(await layoutDigest(dest)).to.equal(images.multi.digest);
    for (const m of [images.amd64, images.arm64]) expect((await stat(path.join(dest, 'blobs', 'sha256', m.digest.slice(7)))).size).to.equal(m.size);
  });

  it('copies the multi-platform index by digest, and one platform of it', async () => {
    const all = out();
    await skopeo.pull(proxied(`library/multi@${images.multi.digest}`), all, { all: true });
    expect(await layoutDigest(all)).to.equal(images.multi.digest);
    const arm = out();
    await skopeo.run(['--override-arch', 'arm64', 'copy', '--src-tls-verify=false', proxied('library/multi:latest'), `oci:${arm}:pulled`]);
    expect(await layoutDigest(arm)).to.equal(images.arm64.digest);
  });

  it('each blob was fetched from the upstream once, however many pulls', async () => {
    const blobGets = front.log.filter((l) => /^GET .*\/blobs\//.test(l));
    expect(blobGets.length).to.be.greaterThan(0);
    expect(new Set(blobGets).size, blobGets.join('\n')).to.equal(blobGets.length);
  });

  it('revalidates a tag with HEAD (not GET) while the upstream is up', async () => {
    const before = front.count(/^GET \/v2\/fix\/app\/manifests\/1$/);
    const res = await httpRequest(`${cf.url}/v2/hub/fix/app/manifests/1`, { headers: { accept: SKOPEO_ACCEPT } });
    expect(res.status).to.equal(200);
    expect(res.headers['x-cache-status']).to.equal('REVALIDATED');
    expect(res.headers['docker-content-digest']).to.equal(images.single.digest);
    expect(front.count(/^GET \/v2\/fix\/app\/manifests\/1$/)).to.equal(before);
    expect(front.count(/^HEAD \/v2\/fix\/app\/manifests\/1$/)).to.be.greaterThan(0);
  });

  describe('with the upstream stopped', () => {
    before(async () => { await front.stop(); });

    it('pulls by digest from the store', async () => {
      const dest = out();
      await skopeo.pull(proxied(`fix/app@${images.single.digest}`), dest);
      expect(await layoutDigest(dest)).to.equal(images.single.digest);
      const all = out();
      await skopeo.pull(proxied(`library/multi@${images.multi.digest}`), all, { all: true });
      expect(await layoutDigest(all)).to.equal(images.multi.digest);
    });

    it('pulls by tag from the stored pointer, served STALE', async () => {
      const dest = out();
      await skopeo.pull(proxied('fix/app:1'), dest);
      expect(await layoutDigest(dest)).to.equal(images.single.digest);
      const all = out();
      await mirrored.pull('docker://docker.io/multi:latest', all, { all: true });
      expect(await layoutDigest(all)).to.equal(images.multi.digest);
      const res = await httpRequest(`${cf.url}/v2/hub/library/multi/manifests/latest`, { headers: { accept: SKOPEO_ACCEPT } });
      expect(res.status).to.equal(200);
      expect(res.headers['x-cache-status']).to.equal('STALE');
      expect(res.headers['docker-content-digest']).to.equal(images.multi.digest);
    });
  });
});
