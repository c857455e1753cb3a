import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

/** How the fake upstream answers one path. */
export interface Behavior {
  /** The body: bytes, or a deterministic generated body of `size` bytes (see {@link generated}). */
  body?: Buffer | GeneratedBody;
  status?: number;
  headers?: Record<string, string>;
  etag?: string;
  lastModified?: string;
  /** Bytes per second (bounded memory: sent in 64 KiB slices). */
  rate?: number;
  /** Destroy the socket after this many body bytes. */
  cutAfter?: number;
  /** Announce this many more bytes than are sent, then close. */
  lieLengthBy?: number;
  /** Wait this long before answering headers (ms). */
  delayHeaders?: number;
  /** Stop sending (but keep the socket) after this many body bytes. */
  stallAfter?: number;
  /** Send without Content-Length (chunked). */
  chunked?: boolean;
  /** Answer the first N requests with `failStatus` (default 503), then behave. */
  failTimes?: number;
  failStatus?: number;
  /** Redirect (302) to this absolute URL. */
  redirectTo?: string;
}

/** A body made on the fly: `size` bytes of a repeated random block, each MiB stamped with its index. */
export interface GeneratedBody { size: number; seed: number }

export function generated(size: number, seed = 1): GeneratedBody {
  return { size, seed };
}

const BLOCK = 1024 * 1024;
const blocks = new Map<number, Buffer>();
function blockFor(seed: number): Buffer {
  let block = blocks.get(seed);
  if (!block) {
    block = Buffer.alloc(BLOCK);
    let h = createHash('sha256').update(String(seed)).digest();
    for (let i = 0; i < BLOCK; i += 32) { h.copy(block, i); h = createHash('sha256').update(h).digest(); }
    blocks.set(seed, block);
  }
  return block;
}

/** The bytes `[start, end)` of a generated body. */
export function generatedSlice(body: GeneratedBody, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let pos = start;
  while (pos < end) {
    const index = Math.floor(pos / BLOCK);
    const offset = pos % BLOCK;
    const n = Math.min(BLOCK - offset, end - pos);
    const block = Buffer.from(blockFor(body.seed));
    block.writeUInt32BE(index >>> 0, 0);
    block.copy(out, pos - start, offset, offset + n);
    pos += n;
  }
  return out;
}

/** The sha256 of a generated body, computed by generating it. */
export function generatedSha256(body: GeneratedBody): string {
  const hash = createHash('sha256');
  for (let pos = 0; pos < body.size; pos += BLOCK) hash.update(generatedSlice(body, pos, Math.min(body.size, pos + BLOCK)));
  return hash.digest('hex');
}

/** One request the fake upstream received. */
export interface SeenRequest { method: string; path: string; headers: http.IncomingHttpHeaders }

/**
 * A real HTTP server on 127.0.0.1 standing in for an upstream: answers per-path behaviors, counts
 * every request, and can stall, cut a body, lie about its length or fail with any status.
 */
export class FakeUpstream {
  readonly requests: SeenRequest[] = [];
  private readonly behaviors = new Map<string, Behavior>();
  private readonly sockets = new Set<import('node:net').Socket>();
  private server?: http.Server;
  /** Set to make every request fail at the TCP level (the upstream is "down"). */
  down = false;

  set(path: string, behavior: Behavior): this {
    this.behaviors.set(path, behavior);
    return this;
  }

  /** Requests (GET and HEAD) seen for `path`. */
  count(path: string, method?: string): number {
    return this.requests.filter((r) => r.path === path && (!method || r.method === method)).length;
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}/`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      if (this.down) { socket.destroy(); return; }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  /** Drops every open connection (keep-alive included). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.dropConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
    this.server = undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url!, 'http://x').pathname;
    this.requests.push({ method: req.method!, path, headers: req.headers });
    const b = this.behaviors.get(path);
    if (!b) { res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file'); return; }
    if (b.delayHeaders) await sleep(b.delayHeaders);
    if (b.failTimes && b.failTimes > 0) { b.failTimes -= 1; res.writeHead(b.failStatus ?? 503).end('try later'); return; }
    if (b.redirectTo) { res.writeHead(302, { location: b.redirectTo }).end(); return; }
    const status = b.status ?? 200;
    const headers: Record<string, string> = { ...b.headers };
    if (b.etag) headers.etag = b.etag;
    if (b.lastModified) headers['last-modified'] = b.lastModified;
    if (status !== 200) { res.writeHead(status, headers).end(`status ${status}`); return; }
    if (b.etag && req.headers['if-none-match'] === b.etag) { res.writeHead(304, headers).end(); return; }
    if (b.lastModified && !b.etag && req.headers['if-modified-since'] === b.lastModified) { res.writeHead(304, headers).end(); return; }
    const body = b.body ?? Buffer.alloc(0);
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    if (!b.chunked) headers['content-length'] = String(size + (b.lieLengthBy ?? 0));
    headers['content-type'] ??= 'application/octet-stream';
    res.writeHead(200, headers);
    if (req.method === 'HEAD') { res.end(); return; }
    const slice = (start: number, end: number) => Buffer.isBuffer(body) ? body.subarray(start, end) : generatedSlice(body, start, end);
    const step = b.rate ? Math.max(1, Math.min(64 * 1024, Math.floor(b.rate / 20))) : 1024 * 1024;
    let sent = 0;
    const limit = Math.min(size, b.cutAfter ?? Infinity, b.stallAfter ?? Infinity);
    let flushed: Promise<unknown> = Promise.resolve();
    while (sent < limit) {
      const n = Math.min(step, limit - sent);
      let ok = true;
      flushed = new Promise((resolve) => { ok = res.write(slice(sent, sent + n), resolve); });
      sent += n;
      if (!ok) await once(res, 'drain').catch(() => undefined);
      if (res.destroyed) return;
      if (b.rate) await sleep((n / b.rate) * 1000);
    }
    // A cut comes after the bytes before it are on the wire (the head and a first small write
    // are held back until the next tick): the client sees a body that breaks off, not a reset.
    if (b.cutAfter !== undefined && b.cutAfter < size) { await flushed; res.socket?.destroy(); return; }
    if (b.stallAfter !== undefined && b.stallAfter < size) return; // never finishes; the client must time out
    if (b.lieLengthBy) { res.socket?.destroy(); return; }
    res.end();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
