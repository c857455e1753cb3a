import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeUpstream, LogCapture, request, requirePrograms, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { generateMirror, serveMirror, type MirrorFiles } from './support/apk-fixture.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN = 'apk-setup-test-admin-token-0123456789';
const INDEX = 'x86_64/APKINDEX.tar.gz';
const PACKAGE = 'x86_64/hello-fixture-1.0-r0.apk';

/**
 * What apk-tools 2 (libfetch) sends for a repository line with credentials in its URL: the user
 * info as Basic, never on the request line; no validators, no Range. No apk client can run here.
 */
function apkGet(repository: string, file: string) {
  const url = new URL(`${repository}/${file}`);
  const headers: Record<string, string> = { 'user-agent': 'libfetch/2.0' };
  if (url.username) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  url.username = '';
  url.password = '';
  return request(url.href, { headers });
}

describe('plugin-alpine: the served /etc/apk/repositories lines at protocol level (anonymousRead false)', function () {
  this.timeout(60_000);
  let files: MirrorFiles;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  let read: string;
  let otherOnly: string;
  let repositories: string;
  const logs = new LogCapture();

  async function token(name: string, remotes: string[]): Promise<string> {
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: ['read'], remotes }) });
    expect(res.status).to.equal(201);
    return (await res.json() as { token: string }).token;
  }
  /** The snippet's `main` line on the fixture's branch, the placeholder replaced by `secret` (or no credentials). */
  const mainLine = (secret: string | undefined) => {
    const line = repositories.split('\n').find((l) => l.endsWith('/main'))!.replace('latest-stable', 'v3.20');
    return secret ? line.replace('<TOKEN>', encodeURIComponent(secret)) : line.replace('any:<TOKEN>@', '');
  };

  before(async function () {
    requirePrograms(this, ['python3', 'openssl']);
    files = await generateMirror();
    upstream = await new FakeUpstream().start();
    serveMirror(upstream, files);
    cf = await startCacheForge({
      log: { requests: true }, auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: [PLUGIN],
      remotes: { alpine: { type: 'alpine', upstream: `${upstream.url}alpine/` }, other: { type: 'alpine', upstream: `${upstream.url}alpine/` } },
    }, { logTo: logs, logLevel: 'trace' });
    read = await token('apk-ci', ['alpine']);
    otherOnly = await token('apk-other', ['other']);
    const res = await fetch(`${cf.url}/-/api/v1/remotes/alpine/setup`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).to.equal(200);
    repositories = (await res.json() as { snippets: { file?: string; text: string }[] }).snippets.find((s) => s.file === '/etc/apk/repositories')!.text;
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('the lines carry the token placeholder in the URL, one per repository', () => {
    const host = new URL(cf.url).host;
    expect(repositories).to.contain(`http://any:<TOKEN>@${host}/alpine/latest-stable/main\nhttp://any:<TOKEN>@${host}/alpine/latest-stable/community\n`);
  });

  it('with the read token put in: the index and a package, byte for byte', async () => {
    const idx = await apkGet(mainLine(read), INDEX);
    expect(idx.status).to.equal(200);
    expect(idx.body.equals(files.get(`v3.20/main/${INDEX}`)!)).to.equal(true);
    const apk = await apkGet(mainLine(read), PACKAGE);
    expect(apk.status).to.equal(200);
    expect(apk.body.equals(files.get(`v3.20/main/${PACKAGE}`)!)).to.equal(true);
  });

  it('without credentials 401 with a Basic challenge (what libfetch answers); a token for another remote only, 403', async () => {
    const anonymous = await apkGet(mainLine(undefined), INDEX);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers['www-authenticate']).to.match(/^Basic /);
    expect((await apkGet(mainLine(otherOnly), INDEX)).status).to.equal(403);
  });

  it('no token appears in Cache Forge\'s log', () => {
    expect(logs.requests.length).to.be.greaterThan(0);
    const all = JSON.stringify(logs.lines);
    for (const secret of [read, otherOnly, ADMIN]) expect(all).to.not.contain(secret);
  });
});
