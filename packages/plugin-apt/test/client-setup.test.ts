import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { LogCapture, requirePrograms, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { AptArchive } from './support/archive.js';
import { AptClient } from './support/apt.js';

const ADMIN = 'apt-setup-test-admin-token-0123456789';
type Snippet = { client: string; file?: string; text: string };

/**
 * The apt snippets of `/-/api/v1/remotes/<name>/setup`, put in place as they say (the token for
 * its placeholder), drive a real apt-get against a Cache Forge whose reads need a token.
 */
describe('plugin-apt: client setup snippets drive real apt-get (anonymousRead false)', function () {
  this.timeout(600_000);
  let archive: AptArchive;
  let cf: RunningCacheForge;
  let key: Buffer;
  let read: string;
  let otherOnly: string;
  const logs = new LogCapture();
  const clients: AptClient[] = [];

  async function token(name: string, remotes?: string[]): Promise<string> {
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: ['read'], ...(remotes ? { remotes } : {}) }) });
    expect(res.status).to.equal(201);
    return (await res.json() as { token: string }).token;
  }

  async function snippets(remote: string): Promise<Snippet[]> {
    const res = await fetch(`${cf.url}/-/api/v1/remotes/${remote}/setup`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).to.equal(200);
    const body = await res.json() as { snippets: Snippet[] };
    expect(JSON.stringify(body)).to.not.contain(read);
    return body.snippets;
  }
  const text = (all: Snippet[], file: string) => all.find((s) => s.file === file)!.text;

  /** A private apt with the snippet files under its etc/, the placeholder replaced by `secret`. */
  async function client(files: Record<string, string>, secret: string | undefined): Promise<AptClient> {
    const put = Object.fromEntries(Object.entries(files).map(([f, t]) => [f.replace('/etc/apt/', ''), secret ? t.replaceAll('<TOKEN>', secret) : t]));
    const c = await AptClient.create('', { files: { ...put, 'trusted.gpg.d/fixture.gpg': key } });
    clients.push(c);
    return c;
  }

  async function expectDownloads(c: AptClient): Promise<void> {
    const update = await c.aptGet('update');
    expect(update.code, update.output).to.equal(0);
    expect(update.output).to.not.match(/^(W|E):/m);
    const download = await c.aptGet('download', 'cf-hello');
    expect(download.code, download.output).to.equal(0);
    expect(await c.downloaded()).to.deep.equal(['cf-hello_1.0-1_amd64.deb']);
  }

  before(async function () {
    requirePrograms(this, ['apt-get', 'dpkg-deb', 'dpkg-scanpackages', 'apt-ftparchive', 'gpg', 'xz'], (p) => `apt-get install ${p === 'apt-ftparchive' ? 'apt-utils' : p.startsWith('dpkg') ? 'dpkg-dev' : p}`);
    archive = await AptArchive.build();
    await archive.start();
    key = await readFile(archive.key);
    cf = await startCacheForge({
      log: { requests: true }, auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-apt'],
      remotes: {
        fixture: { type: 'apt', upstream: archive.url, suites: ['stable'], components: ['main'], client: { retries: 0 } },
        other: { type: 'apt', upstream: `${archive.url}other/`, client: { retries: 0 } },
      },
    }, { logTo: logs, logLevel: 'trace' });
    read = await token('apt-ci', ['fixture']);
    otherOnly = await token('apt-other', ['other']);
  });
  after(async () => {
    await cf?.cleanup();
    await archive?.cleanup();
    for (const c of clients) await c.cleanup();
  });

  it('/-/setup shows the one-line and deb822 sources with the suites and components, auth.conf and the proxy line, a placeholder for the token', async () => {
    const res = await fetch(`${cf.url}/-/setup`);
    expect(res.status).to.equal(200);
    const body = await res.text();
    const base = `${cf.url}/fixture/`;
    expect(body).to.contain(`deb ${base} stable main\n`);
    expect(body).to.contain(`URIs: ${base}\nSuites: stable\nComponents: main\n`);
    expect(body).to.contain(`machine http://${new URL(base).host}/fixture/ login any password <TOKEN>\n`);
    expect(body).to.contain(`Acquire::http::Proxy::127.0.0.1 "http://any:<TOKEN>@${new URL(base).host}/";`);
    expect(body).to.contain(`deb ${archive.url} stable main`);
    // A remote that names no suites shows where one goes.
    expect(body).to.contain(`deb ${cf.url}/other/ <suite> main\n`);
  });

  it('one-line sources.list and auth.conf from the snippets, the read token put in: update and download', async () => {
    const all = await snippets('fixture');
    await expectDownloads(await client({
      '/etc/apt/sources.list.d/cacheforge-fixture.list': text(all, '/etc/apt/sources.list.d/cacheforge-fixture.list'),
      '/etc/apt/auth.conf.d/cacheforge.conf': text(all, '/etc/apt/auth.conf.d/cacheforge.conf'),
    }, read));
  });

  it('deb822 .sources and auth.conf from the snippets: update and download', async () => {
    const all = await snippets('fixture');
    await expectDownloads(await client({
      '/etc/apt/sources.list.d/cacheforge-fixture.sources': text(all, '/etc/apt/sources.list.d/cacheforge-fixture.sources'),
      '/etc/apt/auth.conf.d/cacheforge.conf': text(all, '/etc/apt/auth.conf.d/cacheforge.conf'),
    }, read));
  });

  it('without auth.conf apt reports the 401; with a token for another remote only, the 403', async () => {
    const list = text(await snippets('fixture'), '/etc/apt/sources.list.d/cacheforge-fixture.list');
    const anonymous = await (await client({ '/etc/apt/sources.list.d/cacheforge-fixture.list': list }, undefined)).aptGet('update');
    expect(anonymous.output).to.match(/401\s+Unauthorized/);
    const auth = text(await snippets('fixture'), '/etc/apt/auth.conf.d/cacheforge.conf');
    const other = await (await client({ '/etc/apt/sources.list.d/cacheforge-fixture.list': list, '/etc/apt/auth.conf.d/cacheforge.conf': auth }, otherOnly)).aptGet('update');
    expect(other.output).to.match(/403\s+Forbidden/);
  });

  it('proxy mode from the snippet (sources naming the archive, the token in the proxy URL): update and download; 407 without it, 403 for another remote\'s token', async () => {
    const conf = text(await snippets('fixture'), '/etc/apt/apt.conf.d/01cacheforge-proxy');
    const list = `deb ${archive.url} stable main\n`;
    const before = logs.requests.filter((l) => l.status === 200).length;
    const proxied = await AptClient.create(list, { files: { 'apt.conf.d/01cacheforge-proxy': conf.replaceAll('<TOKEN>', read), 'trusted.gpg.d/fixture.gpg': key } });
    clients.push(proxied);
    await expectDownloads(proxied);
    expect(logs.requests.filter((l) => l.status === 200).length).to.be.greaterThan(before);
    const bare = await AptClient.create(list, { files: { 'apt.conf.d/01cacheforge-proxy': conf.replace('any:<TOKEN>@', ''), 'trusted.gpg.d/fixture.gpg': key } });
    clients.push(bare);
    expect((await bare.aptGet('update')).output).to.match(/407\s+Proxy Authentication Required/);
    const wrong = await AptClient.create(list, { files: { 'apt.conf.d/01cacheforge-proxy': conf.replaceAll('<TOKEN>', otherOnly), 'trusted.gpg.d/fixture.gpg': key } });
    clients.push(wrong);
    expect((await wrong.aptGet('update')).output).to.match(/403\s+Forbidden/);
  });

  it('no token appears in Cache Forge\'s log', () => {
    expect(logs.requests.length).to.be.greaterThan(0);
    const all = JSON.stringify(logs.lines);
    for (const secret of [read, otherOnly, ADMIN]) expect(all).to.not.contain(secret);
  });
});
