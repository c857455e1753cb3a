import { createServer, type Server } from 'node:http';
import { readFile, stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '@cacheforge/core/testing';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixture', 'make-archive.sh');

/** One request the archive server answered. */
export interface ArchiveRequest { readonly path: string; readonly status: number; readonly ifModifiedSince?: string }

/**
 * A signed local apt archive (built by `fixture/make-archive.sh` with dpkg-deb, dpkg-scanpackages,
 * apt-ftparchive and gpg) served as static files on 127.0.0.1, with Last-Modified and 304 as a
 * Debian mirror answers. It can be stopped and started again on the same port (the mirror down).
 */
export class AptArchive {
  readonly requests: ArchiveRequest[] = [];
  private server?: Server;
  private port = 0;

  private constructor(readonly dir: string) {}

  static async build(): Promise<AptArchive> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-apt-archive-'));
    await run('bash', ['-eu', SCRIPT, dir], { timeoutMs: 120_000 });
    return new AptArchive(dir);
  }

  get root(): string { return path.join(this.dir, 'debian'); }
  get key(): string { return path.join(this.dir, 'fixture-key.gpg'); }
  /** The archive's base URL, ending in `/`. */
  get url(): string { return `http://127.0.0.1:${this.port}/debian/`; }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.answer(req.url ?? '/', req.headers['if-modified-since']).then(({ status, body, mtime }) => {
        this.requests.push({ path: req.url ?? '/', status, ifModifiedSince: req.headers['if-modified-since'] });
        const headers: Record<string, string> = mtime ? { 'last-modified': mtime.toUTCString() } : {};
        if (body) headers['content-length'] = String(body.length);
        res.writeHead(status, headers);
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async answer(url: string, since: string | undefined): Promise<{ status: number; body?: Buffer; mtime?: Date }> {
    const rel = decodeURIComponent(url.split('?')[0]!);
    if (!rel.startsWith('/debian/') || rel.includes('..')) return { status: 404 };
    const file = path.join(this.root, rel.slice('/debian/'.length));
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return { status: 404 };
    const mtime = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
    if (since && new Date(since).getTime() >= mtime.getTime()) return { status: 304, mtime };
    return { status: 200, body: await readFile(file), mtime };
  }
}
