import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import { proxyFor } from '../../src/upstream/agents.js';
import { UPSTREAM_DEFAULTS } from '../../src/config/schema.js';
import type { RemoteConfig } from '../../src/config/config.js';

describe('upstream client: proxies from the environment', () => {
  it('picks HTTP(S)_PROXY by scheme and honours NO_PROXY', () => {
    const env = { HTTP_PROXY: 'http://proxy:3128', HTTPS_PROXY: 'http://sproxy:3128', NO_PROXY: 'internal.example,.corp.example' };
    expect(proxyFor(new URL('http://files.example/'), env)).to.equal('http://proxy:3128');
    expect(proxyFor(new URL('https://files.example/'), env)).to.equal('http://sproxy:3128');
    expect(proxyFor(new URL('https://internal.example/'), env)).to.equal(undefined);
    expect(proxyFor(new URL('https://a.corp.example/'), env)).to.equal(undefined);
    expect(proxyFor(new URL('https://files.example/'), {})).to.equal(undefined);
  });

  it('sends upstream requests through the HTTP proxy the environment names', async () => {
    const upstream = await new FakeUpstream().start();
    upstream.set('/f.tar.gz', { body: Buffer.from('through the proxy') });
    const seen: string[] = [];
    // A real forward proxy: tunnels CONNECT requests to the target (as squid does).
    const proxy = http.createServer((_req, res) => { res.writeHead(405).end(); });
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      seen.push(req.url!);
      const [host, port] = req.url!.split(':');
      const target = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        target.write(head);
        target.pipe(client);
        client.pipe(target);
      });
      target.on('error', () => client.destroy());
      client.on('error', () => target.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const remote: RemoteConfig = {
      name: 'files', type: 'generic', upstream: new URL(upstream.url), ttl: {}, maxSize: 0, allowedHosts: [], headers: {}, offline: false,
      client: { ...UPSTREAM_DEFAULTS, retries: 0 }, options: {},
    };
    const client = new UpstreamClient(remote, undefined, { HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    try {
      const res = await client.request({ url: new URL(`${upstream.url}f.tar.gz`), method: 'GET' });
      const chunks: Buffer[] = [];
      for await (const c of res.body) chunks.push(c as Buffer);
      expect(res.status).to.equal(200);
      expect(Buffer.concat(chunks).toString()).to.equal('through the proxy');
      expect(seen).to.deep.equal([new URL(upstream.url).host]);
      expect(upstream.count('/f.tar.gz')).to.equal(1);
    } finally {
      client.close();
      proxy.close();
      proxy.closeAllConnections();
      await upstream.stop();
    }
  });
});
