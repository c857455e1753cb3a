import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import type { RegistryFront } from './support/front.js';
import { requireTools, startUpstreamFixture, tempDir, type FixtureImages, type UpstreamFixture } from './support/fixture.js';
import { Daemon, run, until } from '@cacheforge/core/testing';

/**
 * containerd (`ctr` against a private containerd daemon) pulls docker.io images through a
 * `hosts.toml` mirror that points at Cache Forge's root: containerd adds `?ns=docker.io` to every
 * request, and Cache Forge routes by it to the remote whose aliases include docker.io, although
 * another remote is the default.
 */
describe('docker: containerd (ctr) pulls through a hosts.toml mirror routed by ?ns=', function () {
  this.timeout(240_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: UpstreamFixture;
  let front: RegistryFront;
  let cf: RunningCacheForge;
  let images: FixtureImages;
  let containerd: Daemon;
  let socket: string;
  let hostsDir: string;

  before(async function () {
    await requireTools(this, ['skopeo', 'docker-registry', 'tar', 'containerd', 'ctr']);
    temp = await tempDir('cf-docker-ctr-');
    ({ front, images } = upstream = await startUpstreamFixture(temp.dir));
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-docker'],
      remotes: {
        hub: { type: 'docker', upstream: `${front.url}/`, aliases: ['docker.io'], libraryPrefix: true, ttl: { mutable: 0 } },
        // The default remote is another registry: only ?ns= can send docker.io pulls to `hub`.
        elsewhere: { type: 'docker', upstream: 'http://127.0.0.1:9/', default: true },
      },
    });
    const root = path.join(temp.dir, 'ctrd');
    socket = path.join(root, 'containerd.sock');
    await mkdir(root, { recursive: true });
    const config = path.join(root, 'config.toml');
    await writeFile(config, [
      'version = 2', `root = "${root}/root"`, `state = "${root}/state"`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = "${socket}"`, '[ttrpc]', `  address = "${socket}.ttrpc"`, '[debug]', `  address = "${root}/debug.sock"`, '',
    ].join('\n'));
    hostsDir = path.join(temp.dir, 'certs.d');
    await mkdir(path.join(hostsDir, 'docker.io'), { recursive: true });
    await writeFile(path.join(hostsDir, 'docker.io', 'hosts.toml'), [
      'server = "http://127.0.0.1:9"            # dead port: a mirror miss must not reach the internet',
      `[host."${cf.url}"]`, '  capabilities = ["pull", "resolve"]', '',
    ].join('\n'));
    containerd = new Daemon('containerd', ['--config', config]);
    await until('containerd', async () => { await run('ctr', ['--address', socket, 'version'], { timeoutMs: 5000 }); return true; }, 30_000, containerd);
  });

  after(async () => {
    await containerd?.stop();
    await cf?.cleanup();
    await upstream?.stop();
    await temp?.cleanup();
  });

  const ctr = (args: string[]) => run('ctr', ['--address', socket, '-n', 'cacheforge-test', ...args], { timeoutMs: 180_000 });

  it('pulls a multi-platform image by tag; the resolved digest is the index\'s and the upstream saw ?ns-routed requests', async () => {
    await ctr(['image', 'pull', '--hosts-dir', hostsDir, 'docker.io/library/multi:latest']);
    const { stdout } = await ctr(['image', 'ls']);
    const line = stdout.split('\n').find((l) => l.startsWith('docker.io/library/multi:latest'));
    expect(line, stdout).to.be.a('string');
    expect(line).to.include(images.multi.digest);
    expect(front.count(/^GET \/v2\/library\/multi\/blobs\//)).to.be.greaterThan(0);
    // containerd resolves the tag with HEAD (filled and stored under its digest too), then GETs by
    // digest: that GET was a hit, not a second upstream fetch of the index.
    expect(front.count(/^HEAD \/v2\/library\/multi\/manifests\//)).to.equal(0);
    expect(front.count(new RegExp(`^GET /v2/library/multi/manifests/${images.multi.digest}$`))).to.equal(0);
  });

  it('pulls the single-platform image by digest, and again (all hits: no new upstream blob fetch)', async () => {
    await ctr(['image', 'pull', '--hosts-dir', hostsDir, `docker.io/fix/app@${images.single.digest}`]);
    const fetched = front.count(/^GET .*\/blobs\//);
    await ctr(['image', 'rm', `docker.io/fix/app@${images.single.digest}`]);
    await ctr(['content', 'prune', 'references']).catch(() => undefined);
    await ctr(['image', 'pull', '--hosts-dir', hostsDir, `docker.io/fix/app@${images.single.digest}`]);
    expect(front.count(/^GET .*\/blobs\//)).to.equal(fetched);
  });

  it('pulls by tag with the upstream stopped (the stored tag, served STALE)', async () => {
    await ctr(['image', 'rm', 'docker.io/library/multi:latest']);
    await ctr(['content', 'prune', 'references']).catch(() => undefined);
    await upstream.stop();
    await ctr(['image', 'pull', '--hosts-dir', hostsDir, 'docker.io/library/multi:latest']);
    const { stdout } = await ctr(['image', 'ls']);
    expect(stdout.split('\n').find((l) => l.startsWith('docker.io/library/multi:latest'))).to.include(images.multi.digest);
  });
});
