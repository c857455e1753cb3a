import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One file of the gated upstream. */
export interface GatedFile {
  body: Buffer;
  etag?: string;
  /** The first GET sends this many bytes, then waits for `release()` before the rest. */
  gateAt?: number;
}

/**
 * A loopback upstream whose first GET of a gated file stops part-way until the test opens the
 * gate: "the upstream has not finished" is then a fact, not a guess about timing.
 */
export class GatedUpstream {
  private readonly files = new Map<string, GatedFile>();
  private readonly gets = new Map<string, number>();
  private server?: http.Server;
  private openGate!: () => void;
  private gate = new Promise<void>((resolve) => { this.openGate = resolve; });
  /** Resolves when a gated GET has sent its first part and waits at the gate. */
  atGate!: Promise<void>;
  private reachGate!: () => void;
  /** The `Via` header of every GET, in order. */
  readonly vias: string[] = [];
  /** True once a gated GET has sent its whole body. */
  finished = false;

  constructor() { this.resetGate(); }

  set(p: string, file: GatedFile): this { this.files.set(p, file); return this; }
  count(p: string): number { return this.gets.get(p) ?? 0; }
  release(): void { this.openGate(); }
  resetGate(): void {
    this.gate = new Promise<void>((resolve) => { this.openGate = resolve; });
    this.atGate = new Promise<void>((resolve) => { this.reachGate = resolve; });
    this.finished = false;
  }

  get url(): string { return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/`; }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    this.server?.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const p = new URL(req.url!, 'http://x').pathname;
    const file = this.files.get(p);
    if (!file) { res.writeHead(404).end('none'); return; }
    if (req.method === 'GET') { this.gets.set(p, this.count(p) + 1); this.vias.push(String(req.headers.via)); }
    if (file.etag && req.headers['if-none-match'] === file.etag) { res.writeHead(304, { etag: file.etag }).end(); return; }
    res.writeHead(200, { 'content-length': String(file.body.length), 'content-type': 'application/octet-stream', ...(file.etag ? { etag: file.etag } : {}) });
    if (req.method === 'HEAD') { res.end(); return; }
    const gateAt = this.count(p) === 1 ? file.gateAt : undefined;
    if (gateAt === undefined) { res.end(file.body); return; }
    res.write(file.body.subarray(0, gateAt));
    this.reachGate();
    await this.gate;
    if (res.destroyed) return;
    res.end(file.body.subarray(gateAt), () => { this.finished = true; });
  }
}

/** A response read as it arrives: when its first byte came, and whether it ended cleanly. */
export interface Streamed {
  readonly firstByte: Promise<void>;
  readonly done: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }>;
}

export function stream(url: string, agent: http.Agent): Streamed {
  let gotFirst!: () => void;
  let failedFirst!: (err: Error) => void;
  const firstByte = new Promise<void>((resolve, reject) => { gotFirst = resolve; failedFirst = reject; });
  firstByte.catch(() => undefined);
  const done = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }>((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { chunks.push(c); gotFirst(); });
      const finish = () => { failedFirst(new Error(`ended with ${chunks.length} chunks`)); resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete }); };
      res.on('end', finish);
      res.on('error', finish);
      res.on('aborted', () => undefined);
    });
    req.on('error', (err) => { failedFirst(err); reject(err); });
  });
  return { firstByte, done };
}

/** Keep-alive connections, each pinned to the worker that accepted it (asked through `/-/health`). */
export async function connectionsPerWorker(base: string, perWorker: number, workers: number): Promise<Map<number, { agent: http.Agent; pid: number }[]>> {
  const found = new Map<number, { agent: http.Agent; pid: number }[]>();
  for (let attempt = 0; attempt < perWorker * workers * 8; attempt++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const health = await json(`${base}/-/health`, agent) as { worker: number; pid: number };
    const list = found.get(health.worker) ?? [];
    if (list.length < perWorker) { list.push({ agent, pid: health.pid }); found.set(health.worker, list); } else agent.destroy();
    if (found.size === workers && [...found.values()].every((l) => l.length === perWorker)) return found;
  }
  throw new Error(`could not reach ${workers} workers with ${perWorker} connections each: ${[...found].map(([w, l]) => `${w}:${l.length}`).join(', ')}`);
}

export function json(url: string, agent: http.Agent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString())); } catch (err) { reject(err); } });
    }).on('error', reject);
  });
}

export function text(url: string, agent: http.Agent | false = false, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    }).on('error', reject);
  });
}

export const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
export const randomBody = (size: number): Buffer => randomBytes(size);

/**
 * A format plugin for these tests: `<sha256>.bin` is immutable and verified against its own name
 * (a content-named blob, as registries serve them); `*.txt` is a mutable document.
 */
export async function writeTestPlugin(dir: string): Promise<string> {
  const file = path.join(dir, 'blobs-plugin.mjs');
  await writeFile(file, `export default {
  name: 'blobs', core: '^0.1.0', description: 'content-named test blobs',
  classes: { immutable: ['\\\\.bin$'], mutable: ['\\\\.txt$'], fallback: 'mutable' },
  createHandler(remote) {
    return {
      canHandle(req) { return { kind: 'cached', key: req.path }; },
      fetch(req, route, ctx) {
        const named = /^([0-9a-f]{64})\\.bin$/.exec(req.path);
        const options = named ? { verify: { kind: 'known', digests: [{ algorithm: 'sha256', hex: named[1] }] } } : {};
        return ctx.pipeline.serve(req, route, { url: remote.upstream.href + req.rawPath }, options);
      },
    };
  },
};
`);
  return file;
}

/** The config of an instance with `workers` worker processes over `dir`. */
export async function writeConfig(dir: string, plugin: string, upstream: string, workers: number | 'auto', extra: Record<string, unknown> = {}): Promise<string> {
  const file = path.join(dir, 'cacheforge.config.json');
  await writeFile(file, JSON.stringify({
    server: { host: '127.0.0.1', workers, shutdownTimeout: '30s' }, log: { level: 'info', requests: false },
    // Streams start before verification for anything past 64 KiB (the default holds back 16 MiB).
    upstream: { verifyBeforeSend: '64KiB' },
    storage: { filesystem: { path: path.join(dir, 'blobs') } }, metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
    plugins: [plugin],
    remotes: { files: { type: 'blobs', upstream, ttl: { mutable: '2s' } } },
    ...extra,
  }));
  return file;
}

/** Every file below `dir` (recursively), as paths relative to it. */
export async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try { entries = await readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full); else out.push(path.relative(dir, full));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Whether a process with `pid` still runs. */
export function running(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}
