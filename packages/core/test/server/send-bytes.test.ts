import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import Koa from 'koa';
import { memoryEntity } from '../../src/plugin/rewritten-documents.js';
import { sendArtifact } from '../../src/server/send.js';
import { accessLog } from '../../src/server/access-log.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createLogger } from '../../src/util/logger.js';
import { waitFor } from '../../src/testing/wait.js';

/** What the server did while writing one response: the largest single write, and loop turns between writes. */
interface Writes { largest: number; calls: number; turnsBetween: number; finished?: Promise<void> }

/**
 * Records every write/end of the real response as it passes through (the bytes still go to the
 * socket), and how many setImmediate turns ran while the body was being written.
 */
function recordWrites(res: ServerResponse, writes: Writes): void {
  let writing = true;
  const tick = () => { if (!writing) return; writes.turnsBetween += 1; setImmediate(tick); };
  setImmediate(tick);
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const note = (chunk: unknown) => {
    writes.calls += 1;
    if (Buffer.isBuffer(chunk)) writes.largest = Math.max(writes.largest, chunk.length);
  };
  res.write = ((...args: unknown[]) => { note(args[0]); return write(...args); }) as typeof res.write;
  res.end = ((...args: unknown[]) => { note(args[0]); writing = false; return end(...args); }) as typeof res.end;
}

async function start(body: Buffer, hot: boolean, writes: Writes, logged: string[]): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  // A client that leaves mid-body is a socket error koa would print; the access log line is what counts.
  app.silent = true;
  const out = new PassThrough();
  out.on('data', (line: Buffer) => logged.push(...line.toString().split('\n').filter(Boolean)));
  app.use(accessLog(createLogger('info', out), new Metrics(), true));
  app.use(async (ctx) => {
    recordWrites(ctx.res, writes);
    const entity = memoryEntity(body, { contentType: 'application/octet-stream' });
    // Without its header block the entity goes the koa way (headers set one by one), not the hot one.
    const sent = sendArtifact(ctx, { status: 200, cacheStatus: 'HIT', entity: hot ? entity : { ...entity, headerBlock: undefined } });
    writes.finished = sent;
    await sent;
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`;
  return { url, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** GETs `url`, pausing the socket after every chunk until the loop has turned a few times: a slow reader. */
function slowGet(url: string): Promise<{ status: number; length: string | undefined; sha: string; size: number }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        res.pause();
        setImmediate(() => setImmediate(() => res.resume()));
      });
      res.on('end', () => resolve({ status: res.statusCode!, length: res.headers['content-length'], sha: hash.digest('hex'), size }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('server: large in-memory bodies are written in bounded pieces', function () {
  this.timeout(30_000);
  const body = randomBytes(6 * 1024 * 1024);

  for (const hot of [true, false]) {
    it(`${hot ? 'hot path' : 'koa path'}: a slow reader gets every byte, and the loop runs between pieces`, async () => {
      const writes: Writes = { largest: 0, calls: 0, turnsBetween: 0 };
      const logged: string[] = [];
      const server = await start(body, hot, writes, logged);
      try {
        const got = await slowGet(server.url);
        expect(got).to.deep.equal({ status: 200, length: String(body.length), sha: sha256(body), size: body.length });
        // One end() of the whole body is one long turn: no single write may carry more than 256 KiB,
        expect(writes.largest).to.be.at.most(256 * 1024);
        expect(writes.calls).to.be.greaterThan(8);
        // and other work (here a setImmediate chain) runs while the body goes out.
        expect(writes.turnsBetween).to.be.greaterThan(1);
        await waitFor('the access log line', () => logged.length > 0);
        const line = JSON.parse(logged[0]!) as { bytes: number; complete: boolean; status: number };
        expect(line).to.include({ bytes: body.length, complete: true, status: 200 });
        expect(logged).to.have.length(1);
      } finally {
        await server.close();
      }
    });
  }

  it('stops writing, quietly, when the client goes away mid-body, and logs the response once', async () => {
    const writes: Writes = { largest: 0, calls: 0, turnsBetween: 0 };
    const logged: string[] = [];
    const server = await start(body, true, writes, logged);
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(server.url, (res) => {
          res.once('data', () => { req.destroy(); resolve(); });
        });
        req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err); });
      });
      await waitFor('the request to reach the server', () => writes.finished !== undefined);
      // The server's send settles (no write left pending forever) and nothing is thrown.
      await writes.finished;
      await waitFor('the access log line', () => logged.length > 0);
      const line = JSON.parse(logged[0]!) as { bytes: number; complete: boolean };
      expect(line.complete).to.equal(false);
      expect(line.bytes).to.be.lessThan(body.length);
      expect(logged).to.have.length(1);
    } finally {
      await server.close();
    }
  });
});
