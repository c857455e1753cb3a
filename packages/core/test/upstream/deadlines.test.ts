import { expect } from 'chai';
import net from 'node:net';
import { once } from 'node:events';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';

/** A TCP server that accepts every connection and never answers: a hung upstream. */
async function silentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => accepted,
    async close() { for (const s of sockets) s.destroy(); server.close(); await once(server, 'close'); },
  };
}

describe('upstream: deadlines a user can read', function () {
  this.timeout(20_000);
  let hung: Awaited<ReturnType<typeof silentServer>>;
  let cf: RunningCacheForge;

  before(async () => {
    hung = await silentServer();
    cf = await startCacheForge({
      remotes: {
        // Attempts of 400ms, backoff ~100ms then ~200ms: two attempts fit in the 1s bound, a third cannot start.
        bounded: { type: 'generic', upstream: `http://127.0.0.1:${hung.port}/`, client: { responseTimeout: '400ms', firstByteTimeout: '1s', retries: 5 } },
        // No overall bound: every attempt runs out its own timeout.
        each: { type: 'generic', upstream: `http://127.0.0.1:${hung.port}/`, client: { responseTimeout: '200ms', firstByteTimeout: 0, retries: 1 } },
      },
    });
  });
  after(async () => { await cf.cleanup(); await hung.close(); });

  it('a hung upstream gets a 504 once firstByteTimeout is spent, naming the host, the bound and the attempts', async () => {
    const before = hung.connections();
    const started = Date.now();
    const res = await request(`${cf.url}/bounded/a.tar.gz`);
    const elapsed = Date.now() - started;
    expect(res.status).to.equal(504);
    const error = JSON.parse(res.body.toString()).errors[0];
    expect(error.code).to.equal('CF_ERR_UPSTREAM_TIMEOUT');
    expect(error.message).to.contain(`no response from 127.0.0.1:${hung.port} within 1s after 2 attempts`);
    expect(hung.connections() - before).to.equal(2);
    // Not a pass/fail bound on speed: printed for the note (retries 5 × 400ms would be ~2.9s unbounded).
    console.log(`      504 after ${elapsed} ms`);
  });

  it('without an overall bound, the 504 says how many attempts of which timeout ran out', async () => {
    const before = hung.connections();
    const res = await request(`${cf.url}/each/b.tar.gz`);
    expect(res.status).to.equal(504);
    const error = JSON.parse(res.body.toString()).errors[0];
    expect(error.code).to.equal('CF_ERR_UPSTREAM_TIMEOUT');
    expect(error.message).to.contain(`no response from 127.0.0.1:${hung.port} after 2 attempts of 200ms each`);
    expect(hung.connections() - before).to.equal(2);
  });
});
