import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/**
 * A loopback upstream that sends a body's first `head` bytes at once, then holds the rest until
 * the test opens its gate: a throttled upstream whose progress the test drives by events, so
 * "the first byte arrived while the upstream had sent less than half" is an ordering, not a race.
 */
export class GatedUpstream {
  private readonly server = http.createServer((req, res) => void this.answer(req, res));
  private readonly bodies = new Map<string, { body: Buffer; head: number; headers: Record<string, string> }>();
  private readonly gates = new Map<string, { open: Promise<void>; release: () => void }>();
  /** Bytes sent so far, by path (all responses summed). */
  readonly sent = new Map<string, number>();
  /** GET requests, by path. */
  readonly gets = new Map<string, number>();
  url = '';

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  set(path: string, body: Buffer, head: number, headers: Record<string, string> = {}): void {
    this.bodies.set(path, { body, head, headers });
    let release!: () => void;
    const open = new Promise<void>((resolve) => { release = resolve; });
    this.gates.set(path, { open, release });
  }

  /** Lets the rest of `path`'s body go (to every response, now and later). */
  open(path: string): void {
    this.gates.get(path)?.release();
  }

  count(path: string): number {
    return this.gets.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    for (const gate of this.gates.values()) gate.release();
    this.server.closeAllConnections();
    this.server.close();
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const entry = this.bodies.get(path);
    if (!entry || req.method !== 'GET') { res.writeHead(404).end(); return; }
    this.gets.set(path, this.count(path) + 1);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(entry.body.length), ...entry.headers });
    const send = async (chunk: Buffer): Promise<void> => {
      this.sent.set(path, (this.sent.get(path) ?? 0) + chunk.length);
      if (res.write(chunk) || res.destroyed) return;
      await new Promise<void>((resolve) => {
        const done = (): void => { res.off('drain', done); res.off('close', done); resolve(); };
        res.on('drain', done).on('close', done);
      });
    };
    await send(entry.body.subarray(0, entry.head));
    await this.gates.get(path)!.open;
    for (let pos = entry.head; pos < entry.body.length && !res.destroyed; pos += 64 * 1024) await send(entry.body.subarray(pos, pos + 64 * 1024));
    res.end();
  }
}
