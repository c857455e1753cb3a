import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BUILDER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixture', 'build_distributions.py');
/** Debian's real wheels (python3-pip-whl, python3-setuptools-whl, python3-wheel-whl). */
export const DEBIAN_WHEELS = '/usr/share/python-wheels';
/** The Python that builds distributions: Debian's, which has setuptools and wheel (python3-setuptools, python3-wheel). */
export const BUILD_PYTHON = '/usr/bin/python3';

/** A project the fixture builds with setuptools. */
export interface ProjectSpec {
  name: string;
  version: string;
  requires?: string[];
  requires_python?: string;
  sdist?: boolean;
  wheel?: boolean;
  /** The sdist's PEP 518 build requirements (pyproject.toml); default setuptools' legacy backend. */
  build_requires?: string[];
}

/** One file the index lists. */
export interface FixtureFile {
  readonly filename: string;
  readonly project: string;
  readonly version: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  readonly metadata?: { readonly bytes: Buffer; readonly sha256: string };
  /** PEP 592: the reason, when yanked. */
  yanked?: string;
  requiresPython?: string;
  /** Served with one byte flipped (the index keeps the true hash). */
  corrupt?: boolean;
  /** Its metadata file is served with one byte flipped. */
  corruptMetadata?: boolean;
}

/** One request a fixture server received. */
export interface FixtureRequest { readonly server: 'index' | 'files'; readonly method: string; readonly path: string; readonly accept?: string; readonly conditional: boolean }

export function normalize(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The wheels bundled with a Python's ensurepip (pip, setuptools): upstream's own builds, which
 * that Python can run. Debian's setuptools wheel is patched for Debian's Python only (it fails to
 * build under another one: `AttributeError: install_layout`). `undefined` when there are none.
 */
export async function bundledWheels(python: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(python, ['-c', 'import ensurepip, os; print(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled"))']);
    const dir = stdout.trim();
    return existsSync(dir) && (await readdir(dir)).some((f) => f.endsWith('.whl')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** What is missing to build the fixture, or `undefined` when everything is there. */
export async function missingTools(): Promise<string | undefined> {
  for (const wheel of ['pip', 'setuptools', 'wheel']) {
    const files = existsSync(DEBIAN_WHEELS) ? await readdir(DEBIAN_WHEELS) : [];
    if (!files.some((f) => f.startsWith(`${wheel}-`) && f.endsWith('.whl'))) return `Debian's ${wheel} wheel in ${DEBIAN_WHEELS} (apt-get install python3-${wheel}-whl)`;
  }
  try {
    await run(BUILD_PYTHON, ['-c', 'import setuptools, wheel']);
  } catch {
    return `${BUILD_PYTHON} with setuptools and wheel (apt-get install python3-setuptools python3-wheel)`;
  }
  return undefined;
}

/**
 * Two real HTTP servers on 127.0.0.1 that mimic PyPI: an index (`/simple/` in PEP 503 HTML and
 * PEP 691 JSON, negotiated on Accept, with PEP 592 yanked, requires-python and PEP 658/714
 * metadata hashes; `/pypi/<p>/json`) whose file links are absolute URLs on a second server, the
 * file host (`/packages/<aa>/<bb>/<rest-of-sha>/<file>`). The index also serves a self-hosted
 * layout under `/local/`: static PEP 503 HTML only, `/local/simple/<p>/` linking
 * `../../packages/<file>` relatively.
 * Distributions are real: Debian's wheels and setuptools builds.
 */
export class PypiFixture {
  readonly requests: FixtureRequest[] = [];
  private index?: http.Server;
  private filesServer?: http.Server;
  private readonly sockets = new Set<Socket>();
  private indexPort = 0;
  private filesPort = 0;
  /** Changes every page's ETag (as a new upload would). */
  generation = 1;

  private constructor(readonly dir: string, readonly files: FixtureFile[]) {}

  /** Builds the distributions of `projects` (and copies Debian's wheels) into a temp folder. */
  static async build(projects: ProjectSpec[], options: { wheelDirs?: readonly string[] } = {}): Promise<PypiFixture> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-pypi-fixture-'));
    const out = path.join(dir, 'dist');
    await mkdir(out, { recursive: true });
    for (const from of options.wheelDirs ?? [DEBIAN_WHEELS]) {
      for (const f of await readdir(from)) if (f.endsWith('.whl')) await copyFile(path.join(from, f), path.join(out, f));
    }
    await writeFile(path.join(dir, 'spec.json'), JSON.stringify(projects));
    await run(BUILD_PYTHON, [BUILDER, out, path.join(dir, 'spec.json')], { timeout: 300_000 });
    const files: FixtureFile[] = [];
    for (const filename of (await readdir(out)).sort()) {
      if (filename.endsWith('.metadata')) continue;
      const bytes = await readFile(path.join(out, filename));
      const m = /^(.+?)-(\d[^-]*?)(?:-[^-]+-[^-]+-[^-]+\.whl|\.tar\.gz)$/.exec(filename);
      if (!m) throw new Error(`cannot read the name and version of ${filename}`);
      const metaPath = path.join(out, `${filename}.metadata`);
      const metaBytes = existsSync(metaPath) ? await readFile(metaPath) : undefined;
      files.push({
        filename, project: normalize(m[1]!), version: m[2]!, bytes, sha256: sha256(bytes),
        metadata: metaBytes ? { bytes: metaBytes, sha256: sha256(metaBytes) } : undefined,
      });
    }
    return new PypiFixture(dir, files);
  }

  file(filename: string): FixtureFile {
    const f = this.files.find((x) => x.filename === filename);
    if (!f) throw new Error(`no ${filename} in the fixture`);
    return f;
  }

  get indexUrl(): string { return `http://127.0.0.1:${this.indexPort}/`; }
  get filesUrl(): string { return `http://127.0.0.1:${this.filesPort}/`; }

  count(server: 'index' | 'files', filter: (r: FixtureRequest) => boolean = () => true): number {
    return this.requests.filter((r) => r.server === server && filter(r)).length;
  }

  /** Starts both servers (on their previous ports when restarted, so the proxy's config stays right). */
  async start(): Promise<this> {
    this.index = await this.listen('index', this.indexPort, (req, res) => this.serveIndex(req, res));
    this.indexPort = (this.index.address() as AddressInfo).port;
    this.filesServer = await this.listen('files', this.filesPort, (req, res) => this.serveFiles(req, res));
    this.filesPort = (this.filesServer.address() as AddressInfo).port;
    return this;
  }

  /** Stops both servers: the upstreams are then unreachable (connection refused). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const server of [this.index, this.filesServer]) {
      if (!server) continue;
      server.close();
      await once(server, 'close').catch(() => undefined);
    }
    this.index = undefined;
    this.filesServer = undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async listen(name: 'index' | 'files', port: number, handle: http.RequestListener): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      this.requests.push({
        server: name, method: req.method!, path: req.url!, accept: req.headers.accept,
        conditional: req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined,
      });
      handle(req, res);
    });
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return server;
  }

  /** The file host's path of a file: PyPI's layout, sha256-derived folders. */
  filePath(f: FixtureFile): string {
    return `packages/${f.sha256.slice(0, 2)}/${f.sha256.slice(2, 4)}/${f.sha256.slice(4)}/${f.filename}`;
  }

  private projects(): string[] {
    return [...new Set(this.files.map((f) => f.project))].sort();
  }

  private serveFiles(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url!, 'http://x').pathname.slice(1);
    for (const f of this.files) {
      const p = this.filePath(f);
      if (url === p) return send(res, req, f.corrupt ? flip(f.bytes) : f.bytes, 'application/octet-stream');
      if (url === `${p}.metadata` && f.metadata) return send(res, req, f.corruptMetadata ? flip(f.metadata.bytes) : f.metadata.bytes, 'application/octet-stream');
    }
    res.writeHead(404).end('not found');
  }

  private serveIndex(req: http.IncomingMessage, res: http.ServerResponse): void {
    const pathname = new URL(req.url!, 'http://x').pathname;
    const accept = req.headers.accept ?? '';
    const local = pathname.startsWith('/local/');
    // The self-hosted layout is static PEP 503 HTML: it answers HTML whatever the client asks for.
    const json = !local && /application\/vnd\.pypi\.simple\.(v1|latest)\+json/.test(accept) && !/application\/vnd\.pypi\.simple\.(v1|latest)\+json\s*;\s*q=0(\.0+)?\s*(,|$)/.test(accept);
    const rel = local ? pathname.slice('/local'.length) : pathname;
    if (local) {
      const file = this.files.find((f) => rel === `/packages/${f.filename}` || rel === `/packages/${f.filename}.metadata`);
      if (file) {
        const meta = rel.endsWith('.metadata');
        return send(res, req, meta ? file.metadata!.bytes : file.corrupt ? flip(file.bytes) : file.bytes, 'application/octet-stream');
      }
    }
    if (rel === '/simple/') return this.page(req, res, json, this.rootPage(json, local));
    const project = /^\/simple\/([^/]+)\/$/.exec(rel)?.[1];
    if (project !== undefined) {
      if (project !== normalize(project)) { res.writeHead(301, { location: `${local ? '/local' : ''}/simple/${normalize(project)}/` }).end(); return; }
      const files = this.files.filter((f) => f.project === project);
      if (!files.length) { res.writeHead(404).end('no such project'); return; }
      return this.page(req, res, json, json ? this.jsonPage(project, files, local) : this.htmlPage(project, files, local));
    }
    const api = /^\/pypi\/([^/]+)\/(?:([^/]+)\/)?json$/.exec(rel);
    if (api && !local) {
      const files = this.files.filter((f) => f.project === api[1]);
      if (!files.length) { res.writeHead(404).end('{"message": "Not Found"}'); return; }
      return this.page(req, res, true, this.jsonApi(api[1]!, files, api[2]), 'application/json');
    }
    res.writeHead(404).end('not found');
  }

  private page(req: http.IncomingMessage, res: http.ServerResponse, json: boolean, body: string, type?: string): void {
    const bytes = Buffer.from(body);
    const etag = `"${sha256(bytes).slice(0, 16)}-${this.generation}"`;
    const headers = { 'content-type': type ?? (json ? 'application/vnd.pypi.simple.v1+json' : 'application/vnd.pypi.simple.v1+html'), etag, vary: 'Accept' };
    if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers).end(); return; }
    send(res, req, bytes, headers['content-type'], headers);
  }

  private link(f: FixtureFile, local: boolean): string {
    return local ? `../../packages/${f.filename}` : `${this.filesUrl}${this.filePath(f)}`;
  }

  private rootPage(json: boolean, local: boolean): string {
    const projects = this.projects();
    if (json) return JSON.stringify({ meta: { 'api-version': '1.1' }, projects: projects.map((name) => ({ name })) });
    // PyPI links projects by absolute path; the self-hosted layout relatively.
    const links = projects.map((p) => `    <a href="${local ? `${p}/` : `/simple/${p}/`}">${p}</a>`).join('\n');
    return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Simple index</title>\n  </head>\n  <body>\n${links}\n  </body>\n</html>\n`;
  }

  private htmlPage(project: string, files: FixtureFile[], local: boolean): string {
    const anchors = files.map((f) => {
      let attrs = `href="${escapeHtml(`${this.link(f, local)}#sha256=${f.sha256}`)}"`;
      if (f.requiresPython) attrs += ` data-requires-python="${escapeHtml(f.requiresPython)}"`;
      if (f.metadata) attrs += ` data-dist-info-metadata="sha256=${f.metadata.sha256}" data-core-metadata="sha256=${f.metadata.sha256}"`;
      if (f.yanked !== undefined) attrs += ` data-yanked="${escapeHtml(f.yanked)}"`;
      return `    <a ${attrs}>${f.filename}</a><br />`;
    }).join('\n');
    return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Links for ${project}</title>\n  </head>\n  <body>\n    <h1>Links for ${project}</h1>\n${anchors}\n  </body>\n</html>\n`;
  }

  private jsonFile(f: FixtureFile, local: boolean): Record<string, unknown> {
    const entry: Record<string, unknown> = { filename: f.filename, url: this.link(f, local), hashes: { sha256: f.sha256 }, size: f.bytes.length, 'upload-time': '2026-01-02T03:04:05.000000Z' };
    if (f.requiresPython) entry['requires-python'] = f.requiresPython;
    if (f.metadata) entry['core-metadata'] = entry['dist-info-metadata'] = { sha256: f.metadata.sha256 };
    entry.yanked = f.yanked ?? false;
    return entry;
  }

  private jsonPage(project: string, files: FixtureFile[], local: boolean): string {
    return JSON.stringify({
      meta: { 'api-version': '1.1' }, name: project,
      versions: [...new Set(files.map((f) => f.version))], files: files.map((f) => this.jsonFile(f, local)),
    });
  }

  private jsonApi(project: string, files: FixtureFile[], version: string | undefined): string {
    const versions = [...new Set(files.map((f) => f.version))];
    const shown = version ?? versions[versions.length - 1]!;
    const urlOf = (f: FixtureFile) => ({
      filename: f.filename, url: this.link(f, false), digests: { sha256: f.sha256 }, size: f.bytes.length,
      packagetype: f.filename.endsWith('.whl') ? 'bdist_wheel' : 'sdist', yanked: f.yanked !== undefined, yanked_reason: f.yanked ?? null,
      requires_python: f.requiresPython ?? null,
    });
    const doc: Record<string, unknown> = {
      info: { name: project, version: shown }, urls: files.filter((f) => f.version === shown).map(urlOf), vulnerabilities: [],
    };
    if (!version) doc.releases = Object.fromEntries(versions.map((v) => [v, files.filter((f) => f.version === v).map(urlOf)]));
    return JSON.stringify(doc);
  }
}

function flip(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.length >> 1]! ^= 0xff;
  return copy;
}

function send(res: http.ServerResponse, req: http.IncomingMessage, body: Buffer, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { ...headers, 'content-type': type, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
