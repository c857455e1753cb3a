import { expect } from 'chai';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { request } from '../../src/testing/http.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'artifacts-test-admin-token-0123456789';
const V1 = '/-/api/v1';
const MiB = 1024 * 1024;

/** Bytes the blob files take on disk (allocated blocks), so a purge's freed space is measured, not assumed. */
async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).blocks * 512;
  }
  return total;
}

describe('api: artifacts — browse, look up, purge, flush', function () {
  this.timeout(60_000);
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;
  let reader: string;
  const files: Record<string, Buffer> = {
    'pkg/a/1.bin': randomBytes(2 * MiB),
    'pkg/a/2.bin': randomBytes(MiB),
    'pkg/b.txt': Buffer.from('b\n'),
    'other.txt': Buffer.from('other\n'),
    'same-1.txt': Buffer.from('identical bytes\n'),
    'same-2.txt': Buffer.from('identical bytes\n'),
  };
  const blobs = () => path.join(cf.dataDir, 'blobs');
  const get = async (p: string) => { const res = await request(`${cf.url}/files/${p}`); await cf.fillsSettled(); return res; };

  before(async () => {
    upstream = await new FakeUpstream().start();
    for (const [p, body] of Object.entries(files)) upstream.set(`/${p}`, { body: Buffer.from(body) });
    cf = await startCacheForge({ auth: { adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url }, empty: { type: 'generic', upstream: upstream.url } } });
    api = await CheckedApi.open(cf.url);
    for (const p of Object.keys(files)) expect((await get(p)).status).to.equal(200);
    const made = await api.call('POST', `${V1}/tokens`, { token: ADMIN, body: { name: 'reader', scopes: ['read'] } });
    reader = (made.body as { token: string }).token;
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('lists the children of a prefix like a folder, with counts and sizes, a page at a time', async () => {
    const root = (await api.call('GET', `${V1}/remotes/files/artifacts`, { token: reader })).body as { children: { name: string; kind: string; count: number; size: number }[]; nextCursor: string | null };
    expect(root.children.map((c) => c.name)).to.deep.equal(['other.txt', 'pkg/', 'same-1.txt', 'same-2.txt']);
    expect(root.children[1]).to.deep.include({ kind: 'folder', count: 3, size: 3 * MiB + 2 });
    expect(root.nextCursor).to.equal(null);
    const pkg = (await api.call('GET', `${V1}/remotes/files/artifacts?prefix=pkg/`, { token: reader })).body as { children: { name: string; count: number }[] };
    expect(pkg.children.map((c) => `${c.name}:${c.count}`)).to.deep.equal(['a/:2', 'b.txt:1']);
    const names: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: { children: { name: string }[]; nextCursor: string | null } = (await api.call('GET', `${V1}/remotes/files/artifacts?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: reader })).body as never;
      names.push(...res.children.map((c) => c.name));
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    expect(names).to.deep.equal(root.children.map((c) => c.name));
    const found = (await api.call('GET', `${V1}/remotes/files/artifacts?q=.bin`, { token: reader })).body as { artifacts: { path: string }[] };
    expect(found.artifacts.map((a) => a.path)).to.deep.equal(['pkg/a/1.bin', 'pkg/a/2.bin']);
    const bad = await api.call('GET', `${V1}/remotes/files/artifacts?limit=0`, { token: reader });
    expect(bad.status).to.equal(400);
    expect((await api.call('GET', `${V1}/remotes/files/artifacts?cursor=@@`, { token: reader })).status).to.equal(400);
  });

  it('gives one artifact\'s record, and answers HEAD for existence', async () => {
    const res = await api.call('GET', `${V1}/remotes/files/artifacts/pkg/b.txt`, { token: reader });
    expect(res.status).to.equal(200);
    const [v] = (res.body as { variants: Record<string, unknown>[] }).variants;
    expect(v).to.deep.include({ size: 2, class: 'mutable' });
    expect(v!.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(v!.freshUntil).to.be.a('string');
    expect((await api.call('HEAD', `${V1}/remotes/files/artifacts/pkg/b.txt`, { token: reader })).status).to.equal(200);
    expect((await api.call('HEAD', `${V1}/remotes/files/artifacts/pkg/none.txt`, { token: reader })).status).to.equal(404);
    expect((await api.call('GET', `${V1}/remotes/files/artifacts/pkg/none.txt`, { token: reader })).status).to.equal(404);
  });

  it('needs the write scope to purge', async () => {
    const res = await api.call('DELETE', `${V1}/remotes/files/artifacts/pkg/b.txt`, { token: reader });
    expect(res.status).to.equal(403);
  });

  it('purges one artifact: its blob is deleted and the disk space freed at once, and the next request fetches it again', async () => {
    const before = await diskBytes(blobs());
    const fetchedBefore = upstream.requests.filter((r) => r.path === '/pkg/a/1.bin').length;
    const res = await api.call('DELETE', `${V1}/remotes/files/artifacts/pkg/a/1.bin`, { token: ADMIN });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ artifacts: 1, blobs: 1, bytesFreed: 2 * MiB });
    const freed = before - await diskBytes(blobs());
    expect(freed).to.be.at.least(2 * MiB);
    expect((await api.call('HEAD', `${V1}/remotes/files/artifacts/pkg/a/1.bin`, { token: reader })).status).to.equal(404);
    const again = await get('pkg/a/1.bin');
    expect(again.status).to.equal(200);
    expect(again.headers['x-cache-status']).to.equal('MISS');
    expect(upstream.requests.filter((r) => r.path === '/pkg/a/1.bin').length).to.equal(fetchedBefore + 1);
  });

  it('drops a purged small body from the hot index: the old bytes are never served again', async () => {
    expect((await get('other.txt')).headers['x-cache-status']).to.equal('HIT');
    upstream.set('/other.txt', { body: Buffer.from('other, republished\n') });
    expect((await api.call('DELETE', `${V1}/remotes/files/artifacts/other.txt`, { token: ADMIN })).status).to.equal(200);
    const res = await get('other.txt');
    expect(res.headers['x-cache-status']).to.equal('MISS');
    expect(res.body.toString()).to.equal('other, republished\n');
  });

  it('keeps a blob another artifact still references', async () => {
    const first = await api.call('DELETE', `${V1}/remotes/files/artifacts/same-1.txt`, { token: ADMIN });
    expect(first.body).to.deep.equal({ artifacts: 1, blobs: 0, bytesFreed: 0 });
    expect((await get('same-2.txt')).headers['x-cache-status']).to.equal('HIT');
    const second = await api.call('DELETE', `${V1}/remotes/files/artifacts/same-2.txt`, { token: ADMIN });
    expect(second.body).to.deep.include({ artifacts: 1, blobs: 1 });
  });

  it('purges a prefix, then flushes a remote, freeing the space', async () => {
    const prefix = await api.call('DELETE', `${V1}/remotes/files/artifacts?prefix=pkg/a/`, { token: ADMIN });
    expect(prefix.body).to.deep.equal({ artifacts: 2, blobs: 2, bytesFreed: 3 * MiB });
    expect(((await api.call('GET', `${V1}/remotes/files/artifacts?prefix=pkg/`, { token: reader })).body as { children: { name: string }[] }).children.map((c) => c.name)).to.deep.equal(['b.txt']);
    expect((await api.call('POST', `${V1}/flush`, { token: ADMIN, body: { remote: 'nope' } })).status).to.equal(404);
    const flushed = await api.call('POST', `${V1}/flush`, { token: ADMIN, body: { remote: 'files' } });
    expect(flushed.body).to.deep.include({ artifacts: 2 });
    expect(((await api.call('GET', `${V1}/remotes/files/artifacts`, { token: reader })).body as { children: unknown[] }).children).to.deep.equal([]);
    expect(await diskBytes(blobs())).to.be.below(64 * 1024);
    expect((await api.call('POST', `${V1}/flush`, { token: ADMIN })).status).to.equal(200);
  });
});
