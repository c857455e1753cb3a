import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { waitFor } from '../../src/testing/wait.js';

/** GET from a given local address (127.0.0.2 is another client on loopback), status and body. */
function get(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, localAddress: options.localAddress, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
}

/** A socket that sends a request's headers one byte per `everyMs`, never finishing them. */
interface Dripping { socket: net.Socket; closed: boolean; sent: number; stop(): void }

function drip(port: number, everyMs: number): Dripping {
  const head = `GET /-/health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(100_000)}`;
  const socket = net.connect({ port, host: '127.0.0.1' });
  const state: Dripping = { socket, closed: false, sent: 0, stop: () => { clearInterval(timer); socket.destroy(); } };
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.on('close', () => { state.closed = true; clearInterval(timer); });
  const timer = setInterval(() => {
    if (state.sent < head.length && socket.writable) socket.write(head[state.sent++]!);
  }, everyMs);
  return state;
}

/** A keep-alive socket that has had one full answer from the server (so the server surely counts it). */
async function heldConnection(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write('GET /-/health HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(socket, 'data');
  return socket;
}

describe('server: slow and greedy clients', function () {
  this.timeout(30_000);

  it('500 slow connections from one address: those past the cap (256) are closed, and another client is served', async () => {
    const cf = await startCacheForge({});
    const port = Number(new URL(cf.url).port);
    const slow = Array.from({ length: 500 }, () => drip(port, 200));
    try {
      await waitFor('the connections past the cap to be closed', () => slow.filter((s) => s.closed).length >= 500 - 256, 10_000);
      const other = await get(`${cf.url}/-/health`, { localAddress: '127.0.0.2' });
      expect(other.status).to.equal(200);
      expect(slow.filter((s) => !s.closed)).to.have.length(256);
      const metrics = await get(`${cf.url}/-/metrics`, { localAddress: '127.0.0.2' });
      expect(metrics.body).to.match(/^cacheforge_refused_connections_total 244$/m);
    } finally {
      for (const s of slow) s.stop();
      await cf.cleanup();
    }
  });

  it('with maxConnectionsPerClient 20, the 21st connection from one address is closed at once; other addresses are fine; a freed slot serves again', async () => {
    const cf = await startCacheForge({ server: { host: '127.0.0.1', port: 0, maxConnectionsPerClient: 20 } });
    const port = Number(new URL(cf.url).port);
    const held = await Promise.all(Array.from({ length: 20 }, () => heldConnection(port)));
    try {
      const extra = net.connect({ port, host: '127.0.0.1' });
      let answered = false;
      extra.on('data', () => { answered = true; });
      extra.on('error', () => undefined);
      extra.write('GET /-/health HTTP/1.1\r\nHost: x\r\n\r\n');
      await once(extra, 'close');
      expect(answered).to.equal(false);
      expect((await get(`${cf.url}/-/health`, { localAddress: '127.0.0.2' })).status).to.equal(200);

      held.pop()!.destroy();
      await waitFor('a freed slot to serve 127.0.0.1 again', async () => (await get(`${cf.url}/-/health`).catch(() => ({ status: 0 }))).status === 200);
    } finally {
      for (const s of held) s.destroy();
      await cf.cleanup();
    }
  });

  it('a socket that sends its headers slower than server.headersTimeout is closed', async () => {
    const cf = await startCacheForge({ server: { host: '127.0.0.1', port: 0, headersTimeout: '500ms' } });
    const slow = drip(Number(new URL(cf.url).port), 20);
    try {
      await once(slow.socket, 'close');
      expect(slow.closed).to.equal(true);
      expect(slow.sent).to.be.below(100_000); // closed by the server, not by running out of headers
    } finally {
      slow.stop();
      await cf.cleanup();
    }
  });

  it('behind a trusted proxy, requests in progress are capped per forwarded address (the right-most X-Forwarded-For entry) with a 429', async () => {
    const upstream = await new FakeUpstream().start();
    upstream.set('/slow1.tar.gz', { body: Buffer.from('slow'), delayHeaders: 1500 });
    upstream.set('/slow2.tar.gz', { body: Buffer.from('slow'), delayHeaders: 1500 });
    upstream.set('/fast.tar.gz', { body: Buffer.from('fast') });
    const cf = await startCacheForge({
      server: { host: '127.0.0.1', port: 0, trustProxy: true, maxConnectionsPerClient: 2 },
      remotes: { files: { type: 'generic', upstream: upstream.url } },
    });
    try {
      // A client-supplied left-most entry does not change who the proxy says is asking.
      const from = (ip: string) => ({ headers: { 'x-forwarded-for': `198.51.100.7, ${ip}` } });
      const hanging = [get(`${cf.url}/files/slow1.tar.gz`, from('10.0.0.1')), get(`${cf.url}/files/slow2.tar.gz`, from('10.0.0.1'))];
      await waitFor('both slow requests to reach the upstream', () => upstream.count('/slow1.tar.gz') + upstream.count('/slow2.tar.gz') === 2);
      const refused = await get(`${cf.url}/files/fast.tar.gz`, from('10.0.0.1'));
      expect(refused.status).to.equal(429);
      const error = JSON.parse(refused.body).errors[0];
      expect(error.code).to.equal('CF_ERR_REQUEST_TOO_MANY');
      expect(error.message).to.contain('10.0.0.1 already has 2 requests in progress');
      expect((await get(`${cf.url}/files/fast.tar.gz`, from('10.0.0.2'))).status).to.equal(200);
      expect((await Promise.all(hanging)).map((r) => r.status)).to.deep.equal([200, 200]);
      expect((await get(`${cf.url}/files/fast.tar.gz`, from('10.0.0.1'))).status).to.equal(200);
    } finally {
      await cf.cleanup();
      await upstream.stop();
    }
  });
});
