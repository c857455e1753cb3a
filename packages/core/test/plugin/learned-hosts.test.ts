import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, type Fetched } from '../../src/testing/http.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { pluginModule } from './fixtures.js';

/**
 * The `learner` format, shaped like cargo's sparse index: the upstream's `config.json` names in
 * `dl` the host crates are downloaded from. `crates/<path>` is served from `<dl>/<path>` (reading
 * the document, not allowing its host), `learn` allows the host `dl` names, `allow?target=` allows
 * any target, and `mirror/<path>` is served from the upstream itself (which may redirect).
 */
const LEARNER_PLUGIN = pluginModule(`{
  name: 'learner',
  core: '^0.1.0',
  createHandler(remote, context) {
    const configRoute = { kind: 'cached', key: 'config.json', class: 'mutable' };
    const dl = async (pipeline) =>
      JSON.parse((await pipeline.load(configRoute, { url: remote.upstream.href + 'config.json' })).body.toString()).dl;
    const json = (value) => ({ status: 200, cacheStatus: 'BYPASS', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
    return {
      canHandle(req) {
        if (req.path === 'learn' || req.path === 'allow') return { kind: 'passthrough' };
        if ((req.segments[0] === 'crates' || req.segments[0] === 'mirror') && req.segments.length > 1) return { kind: 'cached', key: req.path, class: 'immutable' };
        return undefined;
      },
      async fetch(req, route, ctx) {
        if (req.path === 'learn') return json(context.learnedHosts.allow(await dl(ctx.pipeline)));
        if (req.path === 'allow') return json(context.learnedHosts.allow(new URLSearchParams(req.search).get('target')));
        if (req.segments[0] === 'mirror') return ctx.pipeline.serve(req, route, { url: remote.upstream.href + req.rawPath });
        return ctx.pipeline.serve(req, route, { url: (await dl(ctx.pipeline)) + '/' + req.rawPath.slice('crates/'.length) });
      },
    };
  },
}`);

type Allowance = { allowed: true } | { allowed: false; reason: string };

function errorCode(res: Fetched): string {
  return (JSON.parse(res.body.toString()) as { errors: { code: string }[] }).errors[0]!.code;
}

describe('plugin contract 0.2: hosts a remote learns from its upstream\'s documents', () => {
  let dir: string;
  let pluginFile: string;
  let index: FakeUpstream;
  let crates: FakeUpstream;
  let cf: RunningCacheForge;
  let logs: LogCapture;

  const allow = async (remote: string, target: string): Promise<Allowance> =>
    JSON.parse((await request(`${cf.url}/${remote}/allow?target=${encodeURIComponent(target)}`)).body.toString()) as Allowance;
  const learnedLines = () => logs.lines.filter((l) => l.msg === 'remote may now fetch from a host its upstream named');
  const start = async (dataDir?: string) => {
    logs = new LogCapture();
    cf = await startCacheForge({
      plugins: [pluginFile],
      log: { level: 'info', requests: false },
      remotes: {
        main: { type: 'learner', upstream: index.url, headers: { 'x-api-key': 'index-secret' } },
        other: { type: 'learner', upstream: index.url, headers: { 'x-api-key': 'other-secret' } },
        bounded: { type: 'learner', upstream: index.url },
      },
    }, { logTo: logs, dataDir });
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-learner-'));
    pluginFile = path.join(dir, 'learner.mjs');
    await writeFile(pluginFile, LEARNER_PLUGIN);
    index = await new FakeUpstream().start();
    crates = await new FakeUpstream().start();
    index.set('/config.json', { body: Buffer.from(JSON.stringify({ dl: `${crates.url}crates` })), headers: { 'content-type': 'application/json' } });
    for (const name of ['serde', 'rand', 'log', 'after-restart']) crates.set(`/crates/${name}/${name}-1.0.0.crate`, { body: Buffer.from(`${name} bytes`) });
    index.set('/mirror/rand/rand-1.0.0.crate', { redirectTo: `${crates.url}crates/rand/rand-1.0.0.crate` });
    await start();
  });
  after(async () => {
    await cf.cleanup();
    await index.stop();
    await crates.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the host a document names until the plugin allows it, then fetches from it through the pipeline', async () => {
    const before = await request(`${cf.url}/main/crates/serde/serde-1.0.0.crate`);
    expect(before.status).to.equal(502);
    expect(errorCode(before)).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    expect(crates.count('/crates/serde/serde-1.0.0.crate')).to.equal(0);

    expect(JSON.parse((await request(`${cf.url}/main/learn`)).body.toString())).to.deep.equal({ allowed: true });
    const res = await request(`${cf.url}/main/crates/serde/serde-1.0.0.crate`);
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal('serde bytes');
    expect(res.headers['x-cache-status']).to.equal('MISS');
    expect((await request(`${cf.url}/main/crates/serde/serde-1.0.0.crate`)).headers['x-cache-status']).to.equal('HIT');
  });

  it('follows an upstream redirect to the learned host too', async () => {
    const res = await request(`${cf.url}/main/mirror/rand/rand-1.0.0.crate`);
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal('rand bytes');
    // The other remote has learned nothing: the same redirect is refused there.
    const refused = await request(`${cf.url}/other/mirror/rand/rand-1.0.0.crate`);
    expect(refused.status).to.equal(502);
    expect(errorCode(refused)).to.equal('CF_ERR_UPSTREAM_REDIRECT');
  });

  it('allows the host for the remote that learned it only', async () => {
    const res = await request(`${cf.url}/other/crates/log/log-1.0.0.crate`);
    expect(res.status).to.equal(502);
    expect(errorCode(res)).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    expect(crates.count('/crates/log/log-1.0.0.crate')).to.equal(0);
  });

  it("sends the remote's configured headers to its upstream, never to a learned host", () => {
    const toIndex = index.requests.filter((r) => r.path === '/config.json');
    expect(toIndex.length).to.be.greaterThan(0);
    for (const r of toIndex) expect(r.headers['x-api-key']).to.be.oneOf(['index-secret', 'other-secret']);
    const toCrates = crates.requests.filter((r) => r.path.startsWith('/crates/'));
    expect(toCrates.length).to.be.greaterThan(0);
    for (const r of toCrates) expect(r.headers['x-api-key'], r.path).to.equal(undefined);
  });

  it('logs a learned host once, at info, with the remote', async () => {
    expect((await request(`${cf.url}/main/learn`)).status).to.equal(200);
    const lines = learnedLines();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 'info', remote: 'main', host: crates.url.replace(/\/$/, '') });
  });

  it('never learns this instance, a link-local or metadata address, a pattern or another scheme', async () => {
    const self = await allow('other', `${cf.url}/`);
    expect(self.allowed).to.equal(false);
    expect((self as { reason: string }).reason).to.contain('own listen address');
    for (const target of ['169.254.169.254', 'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', '*.example.org', 'ftp://files.example.org/', 'not a host']) {
      const answer = await allow('other', target);
      expect(answer.allowed, target).to.equal(false);
      expect((answer as { reason: string }).reason, target).to.be.a('string').and.not.empty;
    }
    expect((await allow('other', '169.254.169.254') as { reason: string }).reason).to.contain('link-local');
    expect(learnedLines()).to.have.length(1);
  });

  it('learns at most 32 hosts per remote, then says why it refuses', async () => {
    let allowed = 0;
    let refusal: Allowance | undefined;
    for (let i = 0; i < 40 && !refusal; i++) {
      const answer = await allow('bounded', `https://dl-${i}.example.org/crates`);
      if (answer.allowed) allowed++;
      else refusal = answer;
    }
    expect(allowed).to.equal(32);
    expect((refusal as { reason: string }).reason).to.contain('32').and.contain('allowedHosts');
    // A host learned already is still allowed; the bound is per remote.
    expect(await allow('bounded', 'https://dl-0.example.org/other/path')).to.deep.equal({ allowed: true });
    expect(await allow('other', 'https://dl-99.example.org/')).to.deep.equal({ allowed: true });
  });

  it('forgets learned hosts at restart: the plugin learns them again from the document', async () => {
    const dataDir = cf.dataDir;
    await cf.stop();
    await start(dataDir);
    const stored = await request(`${cf.url}/main/crates/serde/serde-1.0.0.crate`);
    expect(stored.headers['x-cache-status']).to.equal('HIT');
    const refused = await request(`${cf.url}/main/crates/after-restart/after-restart-1.0.0.crate`);
    expect(refused.status).to.equal(502);
    expect(errorCode(refused)).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    expect((await request(`${cf.url}/main/learn`)).status).to.equal(200);
    expect((await request(`${cf.url}/main/crates/after-restart/after-restart-1.0.0.crate`)).body.toString()).to.equal('after-restart bytes');
  });
});
