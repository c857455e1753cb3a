import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { pluginModule } from './fixtures.js';

/**
 * The `extras` format: `def` answers the remote as its plugin sees it (allowed hosts, public
 * base), `files/<path>` is cached with remembered 404s, and `forget/<prefix>` forgets those under
 * a prefix, as a format does when a document it trusts names something new.
 */
const EXTRAS_PLUGIN = pluginModule(`{
  name: 'extras',
  core: '^0.1.0',
  createHandler(remote) {
    return {
      canHandle(req) {
        if (req.path === 'def' || req.segments[0] === 'forget') return { kind: 'cached', key: req.path, class: 'mutable' };
        if (req.segments[0] === 'files') return { kind: 'cached', key: req.path.slice('files/'.length), class: 'immutable' };
        return undefined;
      },
      async fetch(req, route, ctx) {
        if (req.path === 'def') {
          const body = JSON.stringify({ allowedHosts: remote.allowedHosts, publicBase: remote.publicBase?.href ?? null });
          return { status: 200, cacheStatus: 'BYPASS', headers: { 'content-type': 'application/json' }, body };
        }
        if (req.segments[0] === 'forget') {
          await ctx.pipeline.forgetNotFound(req.path.slice('forget/'.length));
          return { status: 204, cacheStatus: 'BYPASS' };
        }
        return ctx.pipeline.serve(req, route, { url: remote.upstream.href + route.key });
      },
    };
  },
}`);

describe('plugin contract 0.2: what a plugin sees of its remote, and forgetting remembered 404s', () => {
  let dir: string;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-extras-'));
    const pluginFile = path.join(dir, 'extras.mjs');
    await writeFile(pluginFile, EXTRAS_PLUGIN);
    upstream = await new FakeUpstream().start();
    cf = await startCacheForge({
      plugins: [pluginFile],
      server: { publicUrl: 'https://cache.example.org/mirror/' },
      remotes: { ex: { type: 'extras', upstream: upstream.url, allowedHosts: ['cdn.example.org', '*.mirror.example.net'], ttl: { negative: '1h' } } },
    });
  });
  after(async () => {
    await cf.cleanup();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("shows a plugin its remote's allowedHosts and the public base it is served under", async () => {
    const res = await request(`${cf.url}/ex/def`);
    expect(JSON.parse(res.body.toString())).to.deep.equal({
      allowedHosts: ['cdn.example.org', '*.mirror.example.net'], publicBase: 'https://cache.example.org/mirror/ex/',
    });
  });

  it('forgets remembered 404s under a folder prefix (or one whole key), and only those', async () => {
    const paths = ['org/lib/2.0/lib-2.0.jar', 'org/lib/2.0/lib-2.0.pom', 'org/other/1.0/other-1.0.jar', 'org/lib-extra.jar'];
    for (const p of paths) upstream.set(`/${p}`, { status: 404 });
    for (const p of paths) expect((await request(`${cf.url}/ex/files/${p}`)).status).to.equal(404);
    for (const p of paths) expect((await request(`${cf.url}/ex/files/${p}`)).headers['x-cache-status'], p).to.equal('HIT');
    for (const p of paths) upstream.set(`/${p}`, { body: Buffer.from(`now ${p}`) });

    expect((await request(`${cf.url}/ex/forget/org/lib/`)).status).to.equal(204);
    expect((await request(`${cf.url}/ex/files/org/lib/2.0/lib-2.0.jar`)).body.toString()).to.equal('now org/lib/2.0/lib-2.0.jar');
    expect((await request(`${cf.url}/ex/files/org/lib/2.0/lib-2.0.pom`)).status).to.equal(200);
    // Outside the folder, and a key that merely starts with the same letters, stay remembered.
    expect((await request(`${cf.url}/ex/files/org/other/1.0/other-1.0.jar`)).status).to.equal(404);
    expect((await request(`${cf.url}/ex/files/org/lib-extra.jar`)).status).to.equal(404);

    expect((await request(`${cf.url}/ex/forget/org/lib-extra.jar`)).status).to.equal(204);
    expect((await request(`${cf.url}/ex/files/org/lib-extra.jar`)).status).to.equal(200);
    expect(upstream.count('/org/other/1.0/other-1.0.jar')).to.equal(1);
  });
});
