import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request, sha256, type Fetched } from '../../src/testing/http.js';
import { waitFor } from '../../src/testing/wait.js';
import { startS3, type S3Endpoint } from '../support/services.js';

interface Part { type: string; range: string; body: Buffer }

/**
 * Reads a `multipart/byteranges` body the way a client must: by the boundary its Content-Type
 * names, each part's headers up to the blank line, its bytes up to the next delimiter.
 */
function parseByteranges(res: Fetched): Part[] {
  const boundary = /^multipart\/byteranges;\s*boundary=([^\s;]+)$/.exec(String(res.headers['content-type']))?.[1];
  expect(boundary, `content-type ${res.headers['content-type']}`).to.be.a('string');
  const delimiter = Buffer.from(`--${boundary}`);
  const body = res.body;
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  expect(at, 'the body starts with the first delimiter').to.equal(0);
  for (let guard = 0; guard < 100; guard++) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') {
      expect(body.subarray(at + 2).toString()).to.equal('\r\n');
      return parts;
    }
    expect(body.subarray(at, at + 2).toString()).to.equal('\r\n');
    const headEnd = body.indexOf('\r\n\r\n', at);
    const headers = Object.fromEntries(body.subarray(at + 2, headEnd).toString('latin1').split('\r\n').map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }));
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd + 4);
    expect(next, 'every part is followed by a delimiter').to.be.greaterThan(-1);
    parts.push({ type: headers['content-type']!, range: headers['content-range']!, body: body.subarray(headEnd + 4, next) });
    at = next + 2;
  }
  throw new Error('more than 100 parts');
}

/** Each part compared with the bytes it names. */
function expectParts(res: Fetched, stored: Buffer, ranges: [number, number][], type: string): void {
  expect(res.status).to.equal(206);
  expect(res.complete).to.equal(true);
  expect(Number(res.headers['content-length'])).to.equal(res.body.length);
  expect(res.headers['content-range']).to.equal(undefined);
  const parts = parseByteranges(res);
  expect(parts.map((p) => p.range)).to.deep.equal(ranges.map(([a, b]) => `bytes ${a}-${b}/${stored.length}`));
  for (const [i, [a, b]] of ranges.entries()) {
    expect(parts[i]!.type).to.equal(type);
    expect(sha256(parts[i]!.body), `part ${i} (${a}-${b})`).to.equal(sha256(stored.subarray(a, b + 1)));
  }
}

describe('server: several ranges answered as 206 multipart/byteranges', function () {
  this.timeout(60_000);
  const big = randomBytes(1_200_000);
  const small = randomBytes(4_000);
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/big.iso', { body: big, headers: { 'content-type': 'application/x-iso9660-image' } });
    upstream.set('/small.bin', { body: small });
    cf = await startCacheForge({
      remotes: {
        files: { type: 'generic', upstream: upstream.url },
        // Answered as the bytes arrive, not once the whole download is verified.
        streaming: { type: 'generic', upstream: upstream.url, client: { verifyBeforeSend: 0 } },
      },
    });
    for (const file of ['big.iso', 'small.bin']) expect((await request(`${cf.url}/files/${file}`)).status).to.equal(200);
    await cf.fillsSettled();
  });
  after(async () => { await cf.cleanup(); await upstream.stop(); });

  it('sends each asked range of a stored file as a part with its Content-Type and Content-Range', async () => {
    const ranges: [number, number][] = [[0, 9], [20, 29], [700_000, 1_199_999]];
    const res = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=0-9, 20-29,700000-' } });
    expectParts(res, big, ranges, 'application/x-iso9660-image');
    expect(res.headers['x-cache-status']).to.equal('HIT');
    expect(res.headers.etag).to.equal(`"${sha256(big)}"`);
  });

  it('sends parts of an object held in memory, and a suffix range', async () => {
    const res = await request(`${cf.url}/files/small.bin`, { headers: { range: 'bytes=100-199,-50' } });
    expectParts(res, small, [[100, 199], [small.length - 50, small.length - 1]], 'application/octet-stream');
  });

  it('keeps the asked order of separate ranges, and merges overlapping or touching ones', async () => {
    expectParts(await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=5000-5099,10-19' } }), big, [[5000, 5099], [10, 19]], 'application/x-iso9660-image');
    expectParts(await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=50-99,0-9,60-120' } }), big, [[0, 9], [50, 120]], 'application/x-iso9660-image');
    // Merged into one range, it is an ordinary single-part 206.
    const one = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=0-9,5-14,15-19' } });
    expect({ status: one.status, range: one.headers['content-range'], type: one.headers['content-type'] })
      .to.deep.equal({ status: 206, range: `bytes 0-19/${big.length}`, type: 'application/x-iso9660-image' });
    expect(one.body.equals(big.subarray(0, 20))).to.equal(true);
  });

  it('drops unsatisfiable ranges, and answers 416 with bytes */size when none is left', async () => {
    const rest = await request(`${cf.url}/files/big.iso`, { headers: { range: `bytes=10-19,${big.length}-${big.length + 10}` } });
    expect({ status: rest.status, range: rest.headers['content-range'] }).to.deep.equal({ status: 206, range: `bytes 10-19/${big.length}` });
    const none = await request(`${cf.url}/files/big.iso`, { headers: { range: `bytes=${big.length}-,${big.length + 5}-${big.length + 9},-0` } });
    expect({ status: none.status, range: none.headers['content-range'] }).to.deep.equal({ status: 416, range: `bytes */${big.length}` });
    expect(JSON.parse(none.body.toString()).errors[0].code).to.equal('CF_ERR_REQUEST_RANGE');
  });

  it('sends the whole body for more than 16 ranges or a malformed one', async () => {
    const many = Array.from({ length: 17 }, (_, i) => `${i * 100}-${i * 100 + 9}`).join(',');
    const tooMany = await request(`${cf.url}/files/small.bin`, { headers: { range: `bytes=${many}` } });
    expect(tooMany.status).to.equal(200);
    expect(tooMany.body.equals(small)).to.equal(true);
    const sixteen = Array.from({ length: 16 }, (_, i) => [i * 100, i * 100 + 9] as [number, number]);
    expectParts(await request(`${cf.url}/files/small.bin`, { headers: { range: `bytes=${sixteen.map(([a, b]) => `${a}-${b}`).join(',')}` } }), small, sixteen, 'application/octet-stream');
    const malformed = await request(`${cf.url}/files/small.bin`, { headers: { range: 'bytes=0-9,x-y' } });
    expect(malformed.status).to.equal(200);
    expect(malformed.body.length).to.equal(small.length);
  });

  it('keeps HEAD and If-Range: HEAD and a stale If-Range get the whole body, a current one the parts', async () => {
    const head = await request(`${cf.url}/files/big.iso`, { method: 'HEAD', headers: { range: 'bytes=0-9,20-29' } });
    expect({ status: head.status, length: head.headers['content-length'], bytes: head.body.length }).to.deep.equal({ status: 200, length: String(big.length), bytes: 0 });
    const stale = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=0-9,20-29', 'if-range': '"old"' } });
    expect(stale.status).to.equal(200);
    expect(stale.body.length).to.equal(big.length);
    const current = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=0-9,20-29', 'if-range': `"${sha256(big)}"` } });
    expectParts(current, big, [[0, 9], [20, 29]], 'application/x-iso9660-image');
  });

  it('leaves a single range as it was: one 206 with Content-Range', async () => {
    const res = await request(`${cf.url}/files/big.iso`, { headers: { range: 'bytes=1000-1999' } });
    expect({ status: res.status, range: res.headers['content-range'], type: res.headers['content-type'], length: res.headers['content-length'] })
      .to.deep.equal({ status: 206, range: `bytes 1000-1999/${big.length}`, type: 'application/x-iso9660-image', length: '1000' });
    expect(res.body.equals(big.subarray(1000, 2000))).to.equal(true);
  });

  it('sends parts of an object while it is still being fetched', async () => {
    const arriving = randomBytes(400_000);
    upstream.set('/arriving.bin', { body: arriving, rate: 400_000 });
    const first = request(`${cf.url}/streaming/arriving.bin`);
    // The second request finds the fill under way: the upstream is asked once.
    await waitFor('the upstream asked for /arriving.bin', () => upstream.count('/arriving.bin') === 1);
    const parts = await request(`${cf.url}/streaming/arriving.bin`, { headers: { range: 'bytes=10-19,390000-399999' } });
    expect(parts.headers['x-cache-status']).to.equal('MISS');
    expect((await first).body.equals(arriving)).to.equal(true);
    expectParts(parts, arriving, [[10, 19], [390_000, 399_999]], 'application/octet-stream');
    expect(upstream.count('/arriving.bin')).to.equal(1);
  });
});

describe('server: multipart/byteranges from S3 storage (ranged reads of a remote object)', function () {
  this.timeout(60_000);
  const body = randomBytes(700_000);
  let s3: S3Endpoint;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;

  before(async () => {
    s3 = await startS3();
    upstream = await new FakeUpstream().start();
    upstream.set('/on-s3.bin', { body });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cf-byteranges-s3-'));
    cf = await startCacheForge({
      storage: { s3: { ...s3.config(`byteranges-${Date.now().toString(36)}/`), spool: path.join(dataDir, 'spool') } },
      remotes: { files: { type: 'generic', upstream: upstream.url } },
    }, { dataDir });
    expect((await request(`${cf.url}/files/on-s3.bin`)).status).to.equal(200);
    await cf.fillsSettled();
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); await s3?.stop(); });

  it('reads each part from the stored object', async () => {
    const res = await request(`${cf.url}/files/on-s3.bin`, { headers: { range: 'bytes=1-1,300000-300099,-7' } });
    expect(res.headers['x-cache-status']).to.equal('HIT');
    expectParts(res, body, [[1, 1], [300_000, 300_099], [body.length - 7, body.length - 1]], 'application/octet-stream');
  });
});
