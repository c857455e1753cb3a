import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A TLS terminator on 127.0.0.1 in front of a Cache Forge, as a deployment puts one: go sends
 * .netrc credentials over https only. Its certificate is self-signed for 127.0.0.1; go trusts it
 * through `SSL_CERT_FILE=<certFile>`. `target` (the Cache Forge's http URL) may be set after start,
 * so the Cache Forge can be started with this front's URL as its `server.publicUrl`.
 */
export class TlsFront {
  target = '';

  private constructor(private readonly server: https.Server, readonly certFile: string) {}

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(dir: string): Promise<TlsFront> {
    const certFile = path.join(dir, 'front.crt');
    const keyFile = path.join(dir, 'front.key');
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile]);
    const server = https.createServer({ cert: await readFile(certFile), key: await readFile(keyFile) });
    const front = new TlsFront(server, certFile);
    server.on('request', (req, res) => front.relay(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return front;
  }

  private relay(req: http.IncomingMessage, res: http.ServerResponse): void {
    const upstream = http.request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(upstream);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
