import http from 'node:http';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/** One published version: its manifest fields and the tarball's bytes. */
export interface PublishedVersion {
  readonly version: string;
  readonly tarball: Buffer;
  readonly dependencies?: Record<string, string>;
  readonly bin?: Record<string, string>;
}

/** A request the registry saw, with its body. */
export interface SeenRequest { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }

/**
 * Packs a real npm package tarball (`package/package.json` plus files) with tar(1), as
 * `npm pack` lays it out.
 */
export function packTarball(name: string, version: string, extra: { dependencies?: Record<string, string>; bin?: Record<string, string>; files?: Record<string, string> } = {}): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-npm-pack-'));
  try {
    mkdirSync(path.join(dir, 'package'));
    const manifest = { name, version, main: 'index.js', dependencies: extra.dependencies, bin: extra.bin };
    writeFileSync(path.join(dir, 'package/package.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(path.join(dir, 'package/index.js'), `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`);
    for (const [file, text] of Object.entries(extra.files ?? {})) writeFileSync(path.join(dir, 'package', file), text, { mode: 0o755 });
    execFileSync('tar', ['-czf', 'out.tgz', '--owner=0', '--group=0', 'package'], { cwd: dir });
    return readFileSync(path.join(dir, 'out.tgz'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An npm registry on 127.0.0.1 built from packages given to it: full and abbreviated package
 * documents with ETags (and 304s), tarballs, ping, search and audit. A tarball can be served
 * corrupted; `down` makes every connection fail.
 */
export class FakeRegistry {
  readonly seen: SeenRequest[] = [];
  private readonly packages = new Map<string, PublishedVersion[]>();
  private readonly corrupted = new Set<string>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly sockets = new Set<import('node:net').Socket>();
  /** Required `authorization` header value, when the registry is private. */
  requiredAuth?: string;
  /** Documents list no integrity, only the legacy sha1 shasum. */
  shasumOnly = false;

  async start(): Promise<this> {
    this.server.on('connection', (socket) => { this.sockets.add(socket); socket.on('close', () => this.sockets.delete(socket)); });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get port(): number { return (this.server.address() as AddressInfo).port; }
  get url(): string { return `http://127.0.0.1:${this.port}/`; }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }

  publish(name: string, version: PublishedVersion): this {
    const list = this.packages.get(name) ?? [];
    list.push(version);
    this.packages.set(name, list);
    return this;
  }

  /** Serves `file` with one byte flipped (the document keeps the true integrity). */
  corrupt(file: string, on = true): void {
    if (on) this.corrupted.add(file); else this.corrupted.delete(file);
  }

  /** Requests for a path (as sent, percent-encoding kept) or matching a regex. */
  count(match: string | RegExp, method = 'GET'): number {
    return this.seen.filter((r) => r.method === method && (typeof match === 'string' ? r.url === match : match.test(r.url))).length;
  }

  tarballFile(name: string, version: string): string {
    return `${name.split('/').pop()}-${version}.tgz`;
  }

  document(name: string, abbreviated: boolean): Record<string, unknown> | undefined {
    const versions = this.packages.get(name);
    if (!versions) return undefined;
    const entries = versions.map((v) => {
      const dist: Record<string, unknown> = {
        tarball: `${this.url}${name}/-/${this.tarballFile(name, v.version)}`,
        shasum: createHash('sha1').update(v.tarball).digest('hex'),
      };
      if (!this.shasumOnly) dist.integrity = `sha512-${createHash('sha512').update(v.tarball).digest('base64')}`;
      const manifest = { name, version: v.version, dependencies: v.dependencies, bin: v.bin, dist };
      return [v.version, abbreviated ? manifest : { ...manifest, description: `the ${name} package` }];
    });
    const latest = versions.at(-1)!.version;
    return abbreviated
      ? { name, modified: '2024-01-01T00:00:00.000Z', 'dist-tags': { latest }, versions: Object.fromEntries(entries) }
      : { _id: name, name, 'dist-tags': { latest }, versions: Object.fromEntries(entries), time: { modified: '2024-01-01T00:00:00.000Z' },
        readme: `# ${name}\n"tarball": "not a URL"` };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      if (this.requiredAuth && req.headers.authorization !== this.requiredAuth) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      this.answer(req, res, Buffer.concat(chunks));
    });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const url = new URL(req.url!, this.url);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers }).end(bytes);
    };
    if (url.pathname === '/-/ping') return send(200, {});
    if (url.pathname === '/-/v1/search') return send(200, { objects: [], total: 0, text: url.searchParams.get('text') });
    if (url.pathname.startsWith('/-/npm/v1/security/')) {
      if (req.method !== 'POST') return send(405, { error: 'method not allowed' });
      return send(200, { audited: body.length, encoding: req.headers['content-encoding'] ?? 'identity' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'read-only fake' });
    const parts = decodeURIComponent(url.pathname.slice(1)).split('/');
    const scoped = parts[0]!.startsWith('@');
    const name = scoped ? `${parts[0]}/${parts[1]}` : parts[0]!;
    const rest = parts.slice(scoped ? 2 : 1);
    const versions = this.packages.get(name);
    if (!versions) return send(404, { error: 'Not found' });
    if (rest.length === 0) {
      const abbreviated = (req.headers.accept ?? '').includes('application/vnd.npm.install-v1+json');
      const bytes = Buffer.from(JSON.stringify(this.document(name, abbreviated)));
      const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
      if (req.headers['if-none-match'] === etag) { res.writeHead(304, { etag }).end(); return; }
      return send(200, bytes, { etag, 'content-type': abbreviated ? 'application/vnd.npm.install-v1+json' : 'application/json' });
    }
    if (rest.length === 2 && rest[0] === '-') {
      const version = versions.find((v) => this.tarballFile(name, v.version) === rest[1]);
      if (!version) return send(404, { error: 'Not found' });
      let bytes = version.tarball;
      if (this.corrupted.has(rest[1]!)) { bytes = Buffer.from(bytes); bytes[bytes.length - 10]! ^= 0xff; }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }).end(bytes);
      return;
    }
    return send(404, { error: 'Not found' });
  }
}
