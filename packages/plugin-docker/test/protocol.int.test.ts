import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startCacheForge, waitFor, type RunningCacheForge } from '@cacheforge/core/testing';
import type { Registry } from './support/registry.js';
import type { RegistryFront } from './support/front.js';
import type { Skopeo } from './support/skopeo.js';
import { httpRequest, requireTools, SKOPEO_ACCEPT, startUpstreamFixture, tempDir, type FixtureImages, type UpstreamFixture } from './support/fixture.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

type OciErrors = { errors: { code: string; message: string; detail?: Record<string, unknown> }[] };
const ociCode = (body: Buffer) => (JSON.parse(body.toString()) as OciErrors).errors[0]!.code;

/** The registry API over plain HTTP against a real distribution upstream, with faults injected by a front. */
describe('docker: registry protocol (plain HTTP)', function () {
  this.timeout(120_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: UpstreamFixture;
  let registry: Registry;
  let front: RegistryFront;
  let cf: RunningCacheForge;
  let images: FixtureImages;
  let skopeo: Skopeo;
  let layers: { tools: string; amd: string; arm: string };
  let v2: string;

  before(async function () {
    await requireTools(this, ['skopeo', 'docker-registry', 'tar']);
    temp = await tempDir('cf-docker-proto-');
    ({ registry, front, images, skopeo } = upstream = await startUpstreamFixture(temp.dir));
    const manifest = async (digest: string) => JSON.parse(await readFile(path.join(images.layout, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    const amd = await manifest(images.amd64.digest);
    const arm = await manifest(images.arm64.digest);
    layers = { tools: amd.layers[0]!.digest, amd: amd.layers[1]!.digest, arm: arm.layers[1]!.digest };
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-docker'],
      remotes: {
        hub: { type: 'docker', upstream: `${front.url}/`, ttl: { mutable: 0, negative: 0 } },
        cached: { type: 'docker', upstream: `${front.url}/` },
      },
    });
    v2 = `${cf.url}/v2/hub`;
  });

  afterEach(() => { if (front) front.fault = undefined; });

  after(async () => {
    await cf?.cleanup();
    await upstream?.stop();
    await temp?.cleanup();
  });

  it('answers the version check at /v2/ (GET and HEAD) with Docker-Distribution-API-Version', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await httpRequest(`${cf.url}/v2/`, { method });
      expect(res.status).to.equal(200);
      expect(res.headers['docker-distribution-api-version']).to.equal('registry/2.0');
    }
    expect((await httpRequest(`${cf.url}/v2`)).status).to.equal(200);
  });

  it('routes a root request by ?ns= to the remote of that registry, echoing it in OCI-Namespace', async () => {
    const ns = new URL(front.url).host;
    const res = await httpRequest(`${cf.url}/v2/fix/app/manifests/${images.single.digest}?ns=${ns}`);
    expect([res.status, res.headers['oci-namespace'], res.headers['docker-content-digest']]).to.deep.equal([200, ns, images.single.digest]);
    const other = await httpRequest(`${cf.url}/v2/fix/app/manifests/1?ns=quay.io`);
    expect([other.status, ociCode(other.body)]).to.deep.equal([404, 'NAME_UNKNOWN']);
  });

  it('answers unknown things with the OCI error codes: MANIFEST_UNKNOWN, BLOB_UNKNOWN, NAME_UNKNOWN, NAME_INVALID', async () => {
    const tag = await httpRequest(`${v2}/fix/app/manifests/nope`, { headers: { accept: SKOPEO_ACCEPT } });
    expect([tag.status, ociCode(tag.body)]).to.deep.equal([404, 'MANIFEST_UNKNOWN']);
    expect(tag.headers['content-type']).to.match(/^application\/json/);
    const blob = await httpRequest(`${v2}/fix/app/blobs/sha256:${'0'.repeat(64)}`);
    expect([blob.status, ociCode(blob.body)]).to.deep.equal([404, 'BLOB_UNKNOWN']);
    const remote = await httpRequest(`${cf.url}/v2/nosuchremote/fix/app/manifests/1`);
    expect([remote.status, ociCode(remote.body)]).to.deep.equal([404, 'NAME_UNKNOWN']);
    const invalid = await httpRequest(`${v2}/Fix/App/manifests/1`);
    expect([invalid.status, ociCode(invalid.body)], 'a name outside the spec grammar is never asked upstream').to.deep.equal([404, 'MANIFEST_UNKNOWN']);
    expect(front.count(/Fix\/App/)).to.equal(0);
    const badPath = await httpRequest(`${v2}/fix/a%5Cb/manifests/1`);
    expect([badPath.status, ociCode(badPath.body)]).to.deep.equal([400, 'NAME_INVALID']);
  });

  it('refuses pushes (POST, PUT, PATCH, DELETE) with 405 UNSUPPORTED', async () => {
    for (const [method, url] of [
      ['POST', `${v2}/fix/app/blobs/uploads/`], ['PUT', `${v2}/fix/app/manifests/2`], ['PATCH', `${v2}/fix/app/blobs/uploads/x`],
      ['DELETE', `${v2}/fix/app/manifests/${images.single.digest}`],
    ] as const) {
      const res = await httpRequest(url, { method });
      expect([res.status, ociCode(res.body)], `${method} ${url}`).to.deep.equal([405, 'UNSUPPORTED']);
    }
    expect(front.count(/^(POST|PUT|PATCH|DELETE) /)).to.equal(0);
  });

  it('answers HEAD for a manifest with its digest, type and length, and no body', async () => {
    const res = await httpRequest(`${v2}/library/multi/manifests/latest`, { method: 'HEAD', headers: { accept: SKOPEO_ACCEPT } });
    expect(res.status).to.equal(200);
    expect(res.headers['docker-content-digest']).to.equal(images.multi.digest);
    expect(res.headers['content-type']).to.equal(OCI_INDEX);
    expect(Number(res.headers['content-length'])).to.equal(images.multi.size);
    expect(res.body.length).to.equal(0);
  });

  it('answers HEAD for a blob not yet held with its digest and length, storing nothing', async () => {
    const res = await httpRequest(`${v2}/fix/app/blobs/${layers.tools}`, { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(res.headers['docker-content-digest']).to.equal(layers.tools);
    expect(Number(res.headers['content-length'])).to.be.greaterThan(0);
  });

  it('serves Range requests on blobs (206 with the right bytes)', async () => {
    const whole = await httpRequest(`${v2}/fix/app/blobs/${layers.tools}`);
    expect(sha256(whole.body)).to.equal(layers.tools.slice(7));
    const part = await httpRequest(`${v2}/fix/app/blobs/${layers.tools}`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).to.equal(206);
    expect(part.headers['content-range']).to.equal(`bytes 100-199/${whole.body.length}`);
    expect(part.body.equals(whole.body.subarray(100, 200))).to.equal(true);
  });

  it('fetches a blob from the upstream once for 12 parallel clients, each receiving verified bytes', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => httpRequest(`${v2}/library/multi/blobs/${layers.amd}`)));
    for (const r of results) {
      expect(r.status).to.equal(200);
      expect(sha256(r.body)).to.equal(layers.amd.slice(7));
      expect(r.headers['docker-content-digest']).to.equal(layers.amd);
    }
    expect(front.count(new RegExp(`^GET .*/blobs/${layers.amd}$`))).to.equal(1);
  });

  it('never stores a corrupted blob: the client gets a failed download, the next request refetches and verifies', async () => {
    const url = `${v2}/library/multi/blobs/${layers.arm}`;
    front.fault = { kind: 'corrupt', match: new RegExp(`/blobs/${layers.arm}$`) };
    const bad = await httpRequest(url).catch((err: Error) => err);
    if (!(bad instanceof Error)) expect(sha256(bad.body)).to.not.equal(layers.arm.slice(7));
    if (!(bad instanceof Error) && bad.status === 200) expect(bad.body.length).to.be.lessThan(images.arm64.size + 1e9);
    // The mismatch is fetched once more (and fails again) before the fill gives up.
    await cf.fillsSettled();
    expect(front.count(new RegExp(`^GET .*/blobs/${layers.arm}$`))).to.equal(2);
    front.fault = undefined;
    const good = await httpRequest(url);
    expect(good.status).to.equal(200);
    expect(sha256(good.body)).to.equal(layers.arm.slice(7));
    expect(good.headers['x-cache-status']).to.equal('MISS');
    expect(front.count(new RegExp(`^GET .*/blobs/${layers.arm}$`))).to.equal(3);
  });

  it('negotiates by Accept: an index only for clients that accept one, each variant stored apart', async () => {
    const index = await httpRequest(`${v2}/library/multi/manifests/latest`, { headers: { accept: `${OCI_INDEX}, ${DOCKER_V2}` } });
    expect(index.status).to.equal(200);
    expect(index.headers['content-type']).to.equal(OCI_INDEX);
    // distribution does not convert an OCI index for a client that only takes Docker schema 2.
    const narrow = await httpRequest(`${v2}/library/multi/manifests/latest`, { headers: { accept: DOCKER_V2 } });
    expect([narrow.status, ociCode(narrow.body)]).to.deep.equal([404, 'MANIFEST_UNKNOWN']);
  });

  it("asks with every manifest type for Accept: */* (curl's and Go's default) and for none: a tag holding an OCI index is served", async () => {
    for (const accept of ['*/*', undefined, 'application/json, */*;q=0.8']) {
      const res = await httpRequest(`${cf.url}/v2/cached/library/multi/manifests/latest`, { headers: accept ? { accept } : {} });
      expect({ accept, status: res.status, type: res.headers['content-type'] }).to.deep.equal({ accept, status: 200, type: OCI_INDEX });
      expect(sha256(res.body)).to.equal(images.multi.digest.slice(7));
    }
  });

  it('does not remember a 404 to a narrower Accept (content negotiation), but remembers a real one', async () => {
    const asked = () => front.count(/^GET .*\/library\/multi\/manifests\/latest$/);
    const narrow = async () => httpRequest(`${cf.url}/v2/cached/library/multi/manifests/latest`, { headers: { accept: DOCKER_V2 } });
    const before = asked();
    expect((await narrow()).status).to.equal(404);
    expect((await narrow()).status).to.equal(404);
    expect(asked() - before, 'each narrow request asks the upstream again').to.equal(2);

    const missing = () => front.count(/^GET .*\/library\/multi\/manifests\/never-pushed$/);
    for (let i = 0; i < 2; i++) {
      const res = await httpRequest(`${cf.url}/v2/cached/library/multi/manifests/never-pushed`, { headers: { accept: '*/*' } });
      expect(res.status).to.equal(404);
    }
    expect(missing(), 'a tag that does not exist is remembered').to.equal(1);
  });

  it('serves a manifest by digest verified and immutable, whatever the Accept', async () => {
    const res = await httpRequest(`${v2}/fix/app/manifests/${images.single.digest}`, { headers: { accept: DOCKER_V2 } });
    expect(res.status).to.equal(200);
    expect(sha256(res.body)).to.equal(images.single.digest.slice(7));
    expect(res.headers['docker-content-digest']).to.equal(images.single.digest);
    const again = await httpRequest(`${v2}/fix/app/manifests/${images.single.digest}`);
    expect(again.headers['x-cache-status']).to.equal('HIT');
  });

  it('follows a tag that moves upstream (HEAD sees a new digest, GET fetches it)', async () => {
    const first = await httpRequest(`${v2}/fix/moving/manifests/v1`, { headers: { accept: SKOPEO_ACCEPT } });
    expect(first.status).to.equal(404);
    await skopeo.push(images.layout, 'single', `docker://${registry.host}/fix/moving:v1`);
    const a = await httpRequest(`${v2}/fix/moving/manifests/v1`, { headers: { accept: SKOPEO_ACCEPT } });
    expect(a.headers['docker-content-digest']).to.equal(images.single.digest);
    await skopeo.push(images.layout, 'multi', `docker://${registry.host}/fix/moving:v1`);
    const b = await httpRequest(`${v2}/fix/moving/manifests/v1`, { headers: { accept: SKOPEO_ACCEPT } });
    expect(b.status).to.equal(200);
    expect(b.headers['docker-content-digest']).to.equal(images.multi.digest);
    expect(b.headers['x-cache-status']).to.equal('MISS');
  });

  it('serves a stored tag STALE when the upstream answers 429; an unstored one gets 429 TOOMANYREQUESTS', async () => {
    // Until the tag is recorded (a request arriving while its fill is being recorded joins the fill).
    await waitFor('the tag to be recorded (revalidated, not joined)', async () => {
      const res = await httpRequest(`${v2}/fix/app/manifests/1`, { headers: { accept: SKOPEO_ACCEPT } });
      return res.headers['x-cache-status'] === 'REVALIDATED';
    });
    front.fault = { kind: 'status', status: 429, match: /\/manifests\// };
    const stale = await httpRequest(`${v2}/fix/app/manifests/1`, { headers: { accept: SKOPEO_ACCEPT } });
    expect(stale.status).to.equal(200);
    expect(stale.headers['x-cache-status']).to.equal('STALE');
    expect(stale.headers['docker-content-digest']).to.equal(images.single.digest);
    const limited = await httpRequest(`${v2}/fix/app/manifests/never-seen`, { headers: { accept: SKOPEO_ACCEPT } });
    expect([limited.status, ociCode(limited.body)]).to.deep.equal([429, 'TOOMANYREQUESTS']);
  });

  it('lists tags as a mutable document: a new tag upstream shows after revalidation', async () => {
    const before = await httpRequest(`${v2}/fix/app/tags/list`);
    expect(before.status).to.equal(200);
    expect((JSON.parse(before.body.toString()) as { tags: string[] }).tags).to.not.include('2');
    await skopeo.push(images.layout, 'single', `docker://${registry.host}/fix/app:2`);
    const after = await httpRequest(`${v2}/fix/app/tags/list`);
    expect(after.status).to.equal(200);
    expect((JSON.parse(after.body.toString()) as { tags: string[] }).tags).to.include.members(['1', '2']);
  });

  it('routes the referrers endpoint upstream (distribution 2.8 has none: 404 for the client to fall back)', async () => {
    const res = await httpRequest(`${v2}/fix/app/referrers/${images.single.digest}`);
    expect(res.status).to.equal(404);
    expect(front.count(/^GET \/v2\/fix\/app\/referrers\//)).to.equal(1);
  });
});
