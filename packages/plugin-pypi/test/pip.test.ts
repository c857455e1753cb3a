import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock, request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { bundledWheels, DEBIAN_WHEELS, missingTools, PypiFixture, type ProjectSpec } from './support/pypi-fixture.js';
import { pip, pipVersion, PYTHON } from './support/pip.js';

const PROJECTS: ProjectSpec[] = [
  // Built from source by pip, with build requirements it fetches through the proxy. Debian's
  // setuptools wheel runs only under Debian's Python, so the build asks for the test Python's own.
  { name: 'cf-hello', version: '1.0', sdist: true, build_requires: ['setuptools<66', 'wheel'] },
  { name: 'cf-greet', version: '1.0', requires: ['cf-hello'], wheel: true },
  { name: 'cf-greet', version: '2.0', requires: ['cf-hello'], wheel: true },
  { name: 'cf-greet', version: '3.0', requires: ['cf-hello'], requires_python: '>=4', wheel: true },
  { name: 'cf-broken', version: '1.0', wheel: true },
  { name: 'cf-badmeta', version: '1.0', wheel: true },
];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
/** Pages are revalidated after this long, so the offline run below meets expired pages. */
const TTL_MS = 1500;
/** Pages expire when a test moves this clock past their TTL, never by waiting. */
const clock = new ManualClock();

describe('plugin-pypi: real pip through Cache Forge against a local PyPI (index host + file host)', function () {
  this.timeout(600_000);
  let fixture: PypiFixture;
  let cf: RunningCacheForge;
  let work: string;
  let index: string;

  before(async function () {
    const missing = await missingTools();
    const version = await pipVersion();
    if (missing || !version || version[0] < 23 || (version[0] === 23 && version[1] < 2)) {
      // pip < 23.2 crashes on PEP 691 pages whose `dist-info-metadata` is a hash dictionary (PyPI's form).
      console.log(`    skipped: needs ${missing ?? `python3 -m pip >= 23.2 (found ${version?.join('.') ?? 'none'})`}`);
      this.skip();
    }
    const bundled = await bundledWheels(PYTHON);
    if (!bundled) {
      console.log(`    skipped: ${PYTHON} has no ensurepip wheels to build an sdist with`);
      this.skip();
    }
    fixture = await PypiFixture.build(PROJECTS, { wheelDirs: [DEBIAN_WHEELS, bundled] });
    fixture.file('cf_greet-2.0-py3-none-any.whl').yanked = 'broken release';
    fixture.file('cf_greet-3.0-py3-none-any.whl').requiresPython = '>=4';
    fixture.file('cf_broken-1.0-py3-none-any.whl').corrupt = true;
    fixture.file('cf_badmeta-1.0-py3-none-any.whl').corruptMetadata = true;
    await fixture.start();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-pypi'],
      remotes: {
        pypi: { type: 'pypi', upstream: fixture.indexUrl, files: fixture.filesUrl, ttl: { mutable: `${TTL_MS}ms` }, client: { retries: 0 } },
        local: { type: 'pypi', upstream: `${fixture.indexUrl}local/` },
      },
    }, { clock });
    index = `${cf.url}/pypi/simple/`;
    work = await mkdtemp(path.join(tmpdir(), 'cf-pip-'));
  });
  after(async () => {
    await cf?.cleanup();
    await fixture?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pip install resolves a wheel, skips the yanked and the requires-python release, and builds its sdist-only dependency with setuptools and wheel fetched through the proxy', async () => {
    const target = path.join(work, 'site-1');
    const r = await pip(['install', '--index-url', index, '--target', target, 'cf-greet']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Successfully installed cf-greet-1\.0 cf-hello-1\.0/);
    const installed = await readdir(target);
    expect(installed).to.include.members(['cf_greet.py', 'cf_hello.py', 'cf_greet-1.0.dist-info', 'cf_hello-1.0.dist-info']);
    // Every file came from the file host through the proxy: the sdist, its build requirements, the
    // wheel's PEP 658 metadata (read before the wheel) and the wheel itself.
    const fetched = fixture.requests.filter((q) => q.server === 'files').map((q) => path.basename(q.path));
    expect(fetched).to.include.members(['cf-hello-1.0.tar.gz', 'setuptools-65.5.0-py3-none-any.whl', 'wheel-0.38.4-py3-none-any.whl',
      'cf_greet-1.0-py3-none-any.whl.metadata', 'cf_greet-1.0-py3-none-any.whl']);
    expect(fetched).to.not.include('cf_greet-2.0-py3-none-any.whl');
    expect(fetched).to.not.include('cf_greet-3.0-py3-none-any.whl');
  });

  it('pip download --only-binary :all: fetches the exact wheels from an HTML-only index whose file links are relative', async () => {
    const dest = path.join(work, 'dl');
    const r = await pip(['download', '--index-url', `${cf.url}/local/simple/`, '--only-binary', ':all:', '-d', dest, 'wheel==0.38.4', 'setuptools==66.1.1']);
    expect(r.code, r.stderr).to.equal(0);
    for (const name of ['wheel-0.38.4-py3-none-any.whl', 'setuptools-66.1.1-py3-none-any.whl']) {
      expect(sha256(await readFile(path.join(dest, name))), name).to.equal(fixture.file(name).sha256);
    }
    // pip asked for JSON; this index has only HTML, which the proxy stored, rewrote and verified files against.
    const page = await request(`${cf.url}/local/simple/wheel/`, { headers: { accept: PIP_ACCEPT } });
    expect(page.headers['content-type']).to.equal('application/vnd.pypi.simple.v1+html');
    expect(page.body.toString()).to.contain(`href="${cf.url}/local/files/wheel/packages/wheel-0.38.4-py3-none-any.whl#sha256=${fixture.file('wheel-0.38.4-py3-none-any.whl').sha256}"`);
  });

  it('pip install --require-hashes accepts the true hashes and refuses a wrong one', async () => {
    const good = path.join(work, 'good.txt');
    await writeFile(good, `wheel==0.38.4 --hash=sha256:${fixture.file('wheel-0.38.4-py3-none-any.whl').sha256}\n`);
    const ok = await pip(['install', '--index-url', index, '--target', path.join(work, 'site-hashes'), '--require-hashes', '-r', good]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(existsSync(path.join(work, 'site-hashes', 'wheel-0.38.4.dist-info'))).to.equal(true);
    const bad = path.join(work, 'bad.txt');
    await writeFile(bad, `wheel==0.38.4 --hash=sha256:${'0'.repeat(64)}\n`);
    const refused = await pip(['install', '--index-url', index, '--target', path.join(work, 'site-bad'), '--require-hashes', '-r', bad]);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain('DO NOT MATCH THE HASHES');
  });

  it('a file whose bytes differ from the sha256 of its index page is never stored nor served whole', async () => {
    const r = await pip(['install', '--index-url', index, '--target', path.join(work, 'site-broken'), 'cf-broken']);
    expect(r.code).to.not.equal(0);
    // pip hears a clean 502 for a small file, not a body cut one byte short that it would take
    // as whole (urllib3 1.26 does not check Content-Length) and then call a hash mismatch.
    expect(r.stderr).to.match(/502/);
    expect(r.stderr).to.not.contain('DO NOT MATCH THE HASHES');
    const broken = fixture.file('cf_broken-1.0-py3-none-any.whl');
    const url = `${cf.url}/pypi/files/cf-broken/${fixture.filePath(broken)}`;
    const before = fixture.count('files', (q) => q.path.endsWith(broken.filename));
    for (let i = 0; i < 2; i++) {
      const got = await request(url).catch((err: Error) => ({ status: 0, complete: false, body: Buffer.alloc(0), error: err }));
      expect(got.status, `attempt ${i + 1}`).to.equal(502);
      expect(got.body.equals(broken.bytes)).to.equal(false);
    }
    // Nothing was stored: each attempt asked the file host again, twice (a mismatch is retried
    // once, in case the first body was damaged on the way).
    expect(fixture.count('files', (q) => q.path.endsWith(broken.filename))).to.equal(before + 4);
  });

  it('a PEP 658 metadata file is verified against data-core-metadata before it is stored', async () => {
    const good = fixture.file('cf_greet-1.0-py3-none-any.whl');
    const meta = await request(`${cf.url}/pypi/files/cf-greet/${fixture.filePath(good)}.metadata`);
    expect(meta.status).to.equal(200);
    expect(sha256(meta.body)).to.equal(good.metadata!.sha256);
    const bad = fixture.file('cf_badmeta-1.0-py3-none-any.whl');
    const got = await request(`${cf.url}/pypi/files/cf-badmeta/${fixture.filePath(bad)}.metadata`);
    expect(got.status === 502 || !got.complete).to.equal(true);
  });

  it('serves HTML and JSON pages as separate variants (Vary: Accept), links rewritten to this remote, hashes, yanked and requires-python kept', async () => {
    const greet1 = fixture.file('cf_greet-1.0-py3-none-any.whl');
    const html = await request(`${index}cf-greet/`, { headers: { accept: 'text/html' } });
    expect(html.status).to.equal(200);
    expect(html.headers['content-type']).to.match(/html/);
    expect(html.headers.vary).to.equal('Accept');
    const text = html.body.toString();
    expect(text).to.contain(`href="${cf.url}/pypi/files/cf-greet/${fixture.filePath(greet1)}#sha256=${greet1.sha256}"`);
    expect(text).to.contain('data-yanked="broken release"');
    expect(text).to.contain('data-requires-python="&gt;=4"');
    expect(text).to.contain(`data-core-metadata="sha256=${greet1.metadata!.sha256}"`);
    expect(text).to.not.contain(fixture.filesUrl);

    const json = await request(`${index}cf-greet/`, { headers: { accept: PIP_ACCEPT } });
    expect(json.headers['content-type']).to.equal('application/vnd.pypi.simple.v1+json');
    expect(json.headers.vary).to.equal('Accept');
    const doc = JSON.parse(json.body.toString()) as { files: Array<Record<string, unknown>> };
    const entry = doc.files.find((f) => f.filename === greet1.filename)!;
    expect(entry.url).to.equal(`${cf.url}/pypi/files/cf-greet/${fixture.filePath(greet1)}`);
    expect(entry.hashes).to.deep.equal({ sha256: greet1.sha256 });
    expect(entry['core-metadata']).to.deep.equal({ sha256: greet1.metadata!.sha256 });
    expect(doc.files.find((f) => f.filename === 'cf_greet-2.0-py3-none-any.whl')!.yanked).to.equal('broken release');
    expect(doc.files.find((f) => f.filename === 'cf_greet-3.0-py3-none-any.whl')!['requires-python']).to.equal('>=4');

    // Each serialization was fetched from the index with its own Accept and stored apart.
    const asked = fixture.requests.filter((q) => q.server === 'index' && q.path === '/simple/cf-greet/').map((q) => q.accept ?? '');
    expect(asked.some((a) => a.startsWith('application/vnd.pypi.simple.v1+json'))).to.equal(true);
    expect(asked.some((a) => a.startsWith('application/vnd.pypi.simple.v1+html'))).to.equal(true);
    expect((await request(`${index}cf-greet/`, { headers: { accept: 'text/html' } })).body.equals(html.body)).to.equal(true);

    // `?format=` (PEP 691) picks the serialization too.
    const forced = await request(`${index}cf-greet/?format=application/vnd.pypi.simple.v1+json`, { headers: { accept: 'text/html' } });
    expect(forced.headers['content-type']).to.equal('application/vnd.pypi.simple.v1+json');
  });

  it('the project list links each project under this remote (relatively: it is PyPI\'s largest page)', async () => {
    const root = await request(index, { headers: { accept: 'text/html' } });
    expect(root.status).to.equal(200);
    // The upstream gives PyPI's absolute paths (`/simple/cf-greet/`), which would leave this remote.
    expect(root.body.toString()).to.contain('<a href="cf-greet/">cf-greet</a>');
    expect(root.body.toString()).to.not.contain('href="/simple/');
    const json = JSON.parse((await request(index, { headers: { accept: PIP_ACCEPT } })).body.toString()) as { projects: Array<{ name: string }> };
    expect(json.projects.map((p) => p.name)).to.include('cf-greet');
  });

  it('redirects a name that is not normalized, and a page without its trailing slash', async () => {
    const r = await request(`${index}CF_Greet/`);
    expect(r.status).to.equal(301);
    expect(r.headers.location).to.equal(`${index}cf-greet/`);
    const slash = await request(`${index}cf-greet`);
    expect(slash.status).to.equal(301);
    expect(slash.headers.location).to.equal(`${index}cf-greet/`);
  });

  it('revalidates an expired page with its ETag (304 from the index: REVALIDATED)', async () => {
    await request(`${index}wheel/`, { headers: { accept: PIP_ACCEPT } });
    await cf.fillsSettled();
    clock.advance(TTL_MS + 300);
    const conditionalBefore = fixture.count('index', (q) => q.path === '/simple/wheel/' && q.conditional);
    const r = await request(`${index}wheel/`, { headers: { accept: PIP_ACCEPT } });
    expect(r.headers['x-cache-status']).to.equal('REVALIDATED');
    expect(fixture.count('index', (q) => q.path === '/simple/wheel/' && q.conditional)).to.equal(conditionalBefore + 1);
  });

  it('caches the JSON API and rewrites its file URLs, which then download through the proxy', async () => {
    const r = await request(`${cf.url}/pypi/pypi/cf-greet/json`);
    expect(r.status).to.equal(200);
    const doc = JSON.parse(r.body.toString()) as { urls: Array<{ url: string }>; releases: Record<string, Array<{ url: string; digests: { sha256: string } }>> };
    const release = doc.releases['1.0']![0]!;
    expect(release.url.startsWith(`${cf.url}/pypi/files/cf-greet/packages/`)).to.equal(true);
    const file = await request(release.url);
    expect(sha256(file.body)).to.equal(release.digests.sha256);
    const version = JSON.parse((await request(`${cf.url}/pypi/pypi/cf-greet/2.0/json`)).body.toString()) as { urls: Array<{ url: string }> };
    expect(version.urls[0]!.url.startsWith(`${cf.url}/pypi/files/cf-greet/`)).to.equal(true);
    expect((await request(`${cf.url}/pypi/pypi/cf-greet/json`)).headers['x-cache-status']).to.equal('HIT');
  });

  it('a file hit never asks the index or the file host; a file not on its project page is 404 without asking', async () => {
    const wheel = fixture.file('cf_greet-1.0-py3-none-any.whl');
    const seen = fixture.requests.length;
    const hit = await request(`${cf.url}/pypi/files/cf-greet/${fixture.filePath(wheel)}`);
    expect(hit.headers['x-cache-status']).to.equal('HIT');
    expect(sha256(hit.body)).to.equal(wheel.sha256);
    expect(fixture.requests.slice(seen)).to.deep.equal([]);
    const other = fixture.file('pip-23.0.1-py3-none-any.whl');
    const unlisted = await request(`${cf.url}/pypi/files/cf-greet/${fixture.filePath(other)}`);
    expect(unlisted.status).to.equal(404);
    // The miss looked the file up on the project page (revalidated, as it had expired), and asked the file host nothing.
    expect(fixture.requests.slice(seen).filter((q) => q.server === 'files')).to.deep.equal([]);
  });

  it('with both upstreams stopped, the same pip install works again from the cache (pages STALE, files HIT)', async () => {
    await cf.fillsSettled();
    clock.advance(TTL_MS + 300);
    await fixture.stop();
    const target = path.join(work, 'site-offline');
    const r = await pip(['install', '--index-url', index, '--target', target, 'cf-greet']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Successfully installed cf-greet-1\.0 cf-hello-1\.0/);
    expect(await readdir(target)).to.include.members(['cf_greet.py', 'cf_hello.py']);
    const page = await request(`${index}cf-greet/`, { headers: { accept: PIP_ACCEPT } });
    expect(page.status).to.equal(200);
    expect(page.headers['x-cache-status']).to.equal('STALE');
    const wheel = fixture.file('cf_greet-1.0-py3-none-any.whl');
    const file = await request(`${cf.url}/pypi/files/cf-greet/${fixture.filePath(wheel)}`);
    expect(file.headers['x-cache-status']).to.equal('HIT');
    expect(sha256(file.body)).to.equal(wheel.sha256);
  });
});
