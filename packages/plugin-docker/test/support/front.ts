import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault the front injects. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly match: RegExp }
  | { readonly kind: 'corrupt'; readonly match: RegExp };

/**
 * A reverse proxy in front of a real registry that counts what the upstream is asked (method and
 * path) and injects faults on demand: a status for matching paths, or one flipped byte in the body
 * of matching GETs. It keeps the Host header, so the registry's own Location headers point at it.
 */
export class RegistryFront {
  readonly log: string[] = [];
  fault?: Fault;
  private server?: http.Server;
  private port = 0;

  constructor(private readonly target: URL) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests seen whose `METHOD path` matches. */
  count(pattern: RegExp): number {
    return this.log.filter((line) => pattern.test(line)).length;
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.forward(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection: the upstream is down (connection refused). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const line = `${req.method} ${new URL(req.url!, 'http://x').pathname}`;
    this.log.push(line);
    const fault = this.fault;
    if (fault?.kind === 'status' && fault.match.test(line)) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'injected' }] }));
      return;
    }
    const upstream = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode!, ures.headers);
      if (fault?.kind === 'corrupt' && fault.match.test(line) && req.method === 'GET' && ures.statusCode === 200) {
        let flipped = false;
        ures.on('data', (chunk: Buffer) => {
          if (!flipped && chunk.length > 0) { chunk = Buffer.from(chunk); chunk[0] = chunk[0]! ^ 0xff; flipped = true; }
          res.write(chunk);
        });
        ures.on('end', () => res.end());
        return;
      }
      ures.pipe(res);
    });
    upstream.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(upstream);
  }
}
