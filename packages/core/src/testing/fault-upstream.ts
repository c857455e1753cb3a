import { createServer, type Server, type Socket } from 'node:net';

/**
 * How the upstream misbehaves. Made of raw sockets because node:http cannot lie: it will not send
 * a wrong Content-Length, cut a chunk in half, reset a connection after the headers, or answer
 * with something that is not HTTP.
 */
export type FaultMode =
  | 'healthy'
  /** Headers, then a reset (RST) or a clean close (FIN). */
  | 'rst-after-headers' | 'close-after-headers'
  /** Headers and half the body, then RST or FIN. */
  | 'rst-mid-body' | 'close-mid-body'
  /** Chunked: a chunk announced whole and cut in the middle, then RST or FIN. */
  | 'rst-mid-chunk' | 'close-mid-chunk'
  /** Content-Length says 100 bytes more than are sent (then FIN). */
  | 'length-too-long'
  /** Content-Length says fewer bytes than are sent: the body, then 100 bytes of garbage, then FIN. */
  | 'length-too-short'
  /** `HTTP/1.1 <status> <reason>\r\n` and nothing else, the connection held open until the client gives up. */
  | 'status-line-only'
  /** Bytes that are not HTTP at all, then FIN. */
  | 'garbage'
  /** The response head written one byte at a time, `slowByteMs` apart. */
  | 'slow-headers'
  /** A 200 KB header before the body. */
  | 'huge-header';

export const FAULT_MODES: readonly FaultMode[] = [
  'rst-after-headers', 'close-after-headers', 'rst-mid-body', 'close-mid-body', 'rst-mid-chunk', 'close-mid-chunk',
  'length-too-long', 'length-too-short', 'status-line-only', 'garbage', 'slow-headers', 'huge-header',
];

export interface Fault {
  readonly mode: FaultMode;
  /** The status line's status. */
  readonly status: number;
}

/** What a healthy upstream serves at one path. */
export interface FaultArtifact {
  readonly body: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

const REASONS: Record<number, string> = {
  200: 'OK', 302: 'Found', 206: 'Partial Content', 304: 'Not Modified', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error',
};

/**
 * An upstream on 127.0.0.1 that serves registered artifacts, and misbehaves at the paths given a
 * fault (`faults`), each in its own way, so many cases can run at once. A path without an
 * artifact is a 404 when healthy; under a fault, its body is the artifact's bytes (200) or a text
 * body of the same length.
 */
export class FaultUpstream {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly artifacts = new Map<string, FaultArtifact>();
  /** Request path → how it misbehaves. */
  readonly faults = new Map<string, Fault>();
  /** Reset every connection as soon as it is accepted (a host that is not there). */
  refuseConnections = false;
  /** Connections accepted so far (refused ones included). */
  connections = 0;
  /** Request path → a `Location` answered with 302 (credentials or presigned queries included, as given). */
  readonly redirects = new Map<string, string>();
  /** Delay between bytes in `slow-headers`. */
  slowByteMs = 1000;
  /** Requests received, by path. */
  readonly counts = new Map<string, number>();
  /** Every request head received, for tests that look at what was sent upstream. */
  readonly heads: string[] = [];
  port = 0;

  get url(): string { return `http://127.0.0.1:${this.port}/`; }

  set(path: string, artifact: FaultArtifact): void { this.artifacts.set(path, artifact); }

  /** Closes the connections open now (kept-alive ones included), so the next request must connect. */
  dropConnections(): void { for (const socket of this.sockets) socket.destroy(); }

  count(path: string): number { return this.counts.get(path) ?? 0; }

  async start(): Promise<this> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private accept(socket: Socket): void {
    this.connections += 1;
    if (this.refuseConnections) { socket.on('error', () => undefined); socket.resetAndDestroy(); return; }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // the client resets too; that is part of the game
    let buffered = Buffer.alloc(0);
    let busy = false;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (busy) return;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      // Requests through a cache carry no body; anything after the head is the next request.
      buffered = buffered.subarray(end + 4);
      busy = true;
      const done = this.answer(socket, head);
      if (done) { busy = false; if (buffered.length) onData(Buffer.alloc(0)); }
    };
    socket.on('data', onData);
  }

  /** Writes one response; returns true when the connection stays usable for another request. */
  private answer(socket: Socket, head: string): boolean {
    this.heads.push(head);
    const [method = 'GET', target = '/'] = head.split('\r\n')[0]!.split(' ');
    const path = target.split('?')[0]!;
    this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
    const redirect = this.redirects.get(path);
    if (redirect) {
      socket.write(responseHead(302, { location: redirect, 'content-length': '0' }));
      return true;
    }
    const artifact = this.artifacts.get(path);
    const planned = this.faults.get(path);
    const fault = planned && planned.mode !== 'healthy' ? planned : undefined;
    if (!fault) return this.healthy(socket, head, method, artifact);
    return this.faulty(socket, fault, artifact);
  }

  /** The artifact as it is (or 404), with a 304 for its own ETag. */
  private healthy(socket: Socket, head: string, method: string, artifact: FaultArtifact | undefined): boolean {
    const etag = artifact?.headers?.etag;
    if (etag && new RegExp(`^if-none-match: *${etag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\r?$`, 'im').test(head)) {
      socket.write(responseHead(304, { etag }));
      return true;
    }
    const status = artifact ? 200 : 404;
    const body = artifact?.body ?? Buffer.from('not here');
    const headers = { 'content-type': 'application/octet-stream', ...artifact?.headers, 'content-length': String(body.length) };
    socket.write(responseHead(status, headers));
    if (method !== 'HEAD') socket.write(body);
    return true;
  }

  /** Writes the planned fault; the connection is never reused after one. */
  private faulty(socket: Socket, fault: Fault, artifact: FaultArtifact | undefined): false {
    const status = fault.status;
    const body = status === 200 && artifact ? artifact.body : filler(artifact?.body.length ?? 10);
    const headers: Record<string, string> = { 'content-type': status === 200 ? 'application/octet-stream' : 'text/plain', ...(status === 200 ? artifact?.headers : undefined) };
    const half = body.subarray(0, Math.floor(body.length / 2));
    const cut = (rst: boolean) => { if (rst) socket.resetAndDestroy(); else socket.end(); };
    switch (fault.mode) {
      case 'rst-after-headers': case 'close-after-headers':
        socket.write(responseHead(status, { ...headers, 'content-length': String(body.length) }), () => cut(fault.mode === 'rst-after-headers'));
        return false;
      case 'rst-mid-body': case 'close-mid-body':
        socket.write(Buffer.concat([responseHead(status, { ...headers, 'content-length': String(body.length) }), half]), () => cut(fault.mode === 'rst-mid-body'));
        return false;
      case 'rst-mid-chunk': case 'close-mid-chunk':
        socket.write(Buffer.concat([responseHead(status, { ...headers, 'transfer-encoding': 'chunked' }), Buffer.from(`${Math.max(body.length, 1).toString(16)}\r\n`), half]),
          () => cut(fault.mode === 'rst-mid-chunk'));
        return false;
      case 'length-too-long':
        socket.write(Buffer.concat([responseHead(status, { ...headers, 'content-length': String(body.length + 100) }), body]), () => cut(false));
        return false;
      case 'length-too-short':
        socket.write(Buffer.concat([responseHead(status, { ...headers, 'content-length': String(body.length) }), body, filler(100)]), () => cut(false));
        return false;
      case 'status-line-only':
        socket.write(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\n`);
        return false;
      case 'garbage':
        socket.write('SSH-2.0-OpenSSH_9.2 \u0000\u0001\u0002 definitely not HTTP\r\n\r\n', () => cut(false));
        return false;
      case 'slow-headers': {
        const bytes = responseHead(status, { ...headers, 'content-length': String(body.length) });
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || i >= bytes.length) { clearInterval(timer); if (!socket.destroyed) socket.end(body); return; }
          socket.write(bytes.subarray(i, i + 1)); i += 1;
        }, this.slowByteMs);
        socket.on('close', () => clearInterval(timer));
        return false;
      }
      case 'huge-header':
        socket.write(Buffer.concat([responseHead(status, { ...headers, 'x-filler': 'a'.repeat(200 * 1024), 'content-length': String(body.length) }), body]), () => cut(false));
        return false;
      default:
        throw new Error(`unknown fault ${String(fault.mode)}`);
    }
  }
}

function responseHead(status: number, headers: Record<string, string>): Buffer {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function filler(size: number): Buffer {
  return Buffer.alloc(size, 'x');
}

/** Deterministic bytes of `size` for `name`, distinct per name (so a mixed-up object shows). */
export function bytesFor(name: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 2166136261;
  for (const c of name) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
  for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; out[i] = x & 0xff; }
  return out;
}
