import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Daemon, LogCapture, run, startCacheForge, until, type RunningCacheForge } from '@cacheforge/core/testing';
import { Skopeo } from './support/skopeo.js';
import { requireTools, startUpstreamFixture, tempDir, type FixtureImages, type UpstreamFixture } from './support/fixture.js';
import { layoutDigest } from './support/image.js';

const ADMIN = 'docker-bearer-clients-admin-token-0123456789';

/**
 * Real registry clients through Cache Forge's own token flow (anonymousRead false): skopeo after
 * `login`, containerd's ctr with `--user any:<token>`; a wrong token fails with the OCI error
 * body; no token or bearer ever reaches the log.
 */
describe('docker: skopeo and ctr through the Bearer token flow (anonymousRead false)', function () {
  this.timeout(240_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: UpstreamFixture;
  let cf: RunningCacheForge;
  let images: FixtureImages;
  let token: string;
  const logs = new LogCapture();
  const tokenCalls = () => logs.requests.filter((l) => String(l.path).startsWith('/-/docker/token')).length;

  before(async function () {
    await requireTools(this, ['skopeo', 'docker-registry', 'tar']);
    temp = await tempDir('cf-docker-bearer-clients-');
    upstream = await startUpstreamFixture(temp.dir);
    images = upstream.images;
    cf = await startCacheForge({
      auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-docker'], log: { level: 'info', requests: true },
      remotes: { hub: { type: 'docker', upstream: `${upstream.front.url}/`, aliases: ['docker.io'], libraryPrefix: true, ttl: { mutable: 0 } } },
    }, { logTo: logs });
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pull', scopes: ['read'] }) });
    token = (await res.json() as { token: string }).token;
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); await temp?.cleanup(); });

  const host = () => new URL(cf.url).host;

  it('skopeo login, inspect and copy go through the token endpoint', async () => {
    const skopeo = await Skopeo.create(path.join(temp.dir, 'skopeo'));
    const authfile = path.join(temp.dir, 'skopeo', 'auth.json');
    await skopeo.run(['login', '--tls-verify=false', '--authfile', authfile, '--username', 'ci', '--password', token, host()]);
    const before = tokenCalls();
    const { stdout } = await skopeo.run(['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${host()}/hub/fix/app:1`]);
    expect(JSON.parse(stdout).Digest).to.equal(images.single.digest);
    const dest = path.join(temp.dir, 'copied');
    await skopeo.pull(`docker://${host()}/hub/fix/app:1`, dest);
    expect(await layoutDigest(dest)).to.equal(images.single.digest);
    expect(tokenCalls(), 'skopeo asked the token endpoint').to.be.greaterThan(before);
  });

  it('skopeo with a wrong token fails, and the answer is the OCI error body', async () => {
    const skopeo = await Skopeo.create(path.join(temp.dir, 'skopeo-wrong'));
    const failed = await skopeo.run(['inspect', '--tls-verify=false', '--creds', 'ci:cf_wrong', `docker://${host()}/hub/fix/app:1`]).then(() => undefined, (e: Error) => e.message);
    expect(failed).to.be.a('string');
    const res = await fetch(`${cf.url}/v2/hub/fix/app/manifests/1`, { headers: { authorization: `Basic ${Buffer.from('ci:cf_wrong').toString('base64')}` } });
    expect(res.status).to.equal(401);
    expect((await res.json() as { errors: { code: string }[] }).errors[0]!.code).to.equal('UNAUTHORIZED');
  });

  it('ctr pulls with --user any:<token> through a hosts.toml mirror', async function () {
    await requireTools(this, ['containerd', 'ctr']);
    const root = path.join(temp.dir, 'ctrd');
    const socket = path.join(root, 'containerd.sock');
    await mkdir(root, { recursive: true });
    const config = path.join(root, 'config.toml');
    await writeFile(config, [
      'version = 2', `root = "${root}/root"`, `state = "${root}/state"`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = "${socket}"`, '[ttrpc]', `  address = "${socket}.ttrpc"`, '[debug]', `  address = "${root}/debug.sock"`, '',
    ].join('\n'));
    const hostsDir = path.join(temp.dir, 'certs.d');
    await mkdir(path.join(hostsDir, 'docker.io'), { recursive: true });
    await writeFile(path.join(hostsDir, 'docker.io', 'hosts.toml'), ['server = "http://127.0.0.1:9"', `[host."${cf.url}"]`, '  capabilities = ["pull", "resolve"]', ''].join('\n'));
    const containerd = new Daemon('containerd', ['--config', config]);
    try {
      await until('containerd', async () => { await run('ctr', ['--address', socket, 'version'], { timeoutMs: 5000 }); return true; }, 30_000, containerd);
      const before = tokenCalls();
      await run('ctr', ['--address', socket, '-n', 'cf-bearer', 'image', 'pull', '--hosts-dir', hostsDir, '--user', `any:${token}`, `docker.io/fix/app@${images.single.digest}`], { timeoutMs: 180_000 });
      expect(tokenCalls(), 'ctr asked the token endpoint').to.be.greaterThan(before);
    } finally {
      await containerd.stop();
    }
  });

  it('never logs a token or a bearer', () => {
    const text = logs.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).to.not.contain(token);
    expect(text).to.not.contain('cfg_');
  });
});
