import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { indexPath } from '../../src/index-paths.js';
import { tarGz, type TarFile } from './ustar.js';

const exec = promisify(execFile);

/** Where Debian's librust-*-dev packages put crate sources. */
export const DEBIAN_REGISTRY = '/usr/share/cargo/registry';
/** The rustup cargo, used to read manifests as the index needs them. */
export const RUSTUP_CARGO = '/root/.cargo/bin/cargo';

/** One version the fixture publishes, packed from a directory of Debian's crate sources. */
export interface CrateSpec {
  /** The source directory (`/usr/share/cargo/registry/fnv-1.0.7`). */
  readonly dir: string;
  /** Published under another name or version than its manifest's (the manifest is changed to match). */
  readonly name?: string;
  readonly version?: string;
  readonly yanked?: boolean;
  /** Listed with the cksum of its true bytes, served with one byte changed. */
  readonly tamper?: boolean;
}

/** A packed crate: its index line and the bytes its download serves. */
export interface PackedCrate {
  readonly name: string;
  readonly vers: string;
  readonly cksum: string;
  readonly bytes: Buffer;
  readonly served: Buffer;
  readonly line: string;
  readonly yanked: boolean;
}

/** Where the downloads server keeps crates: by index prefix (`{lowerprefix}`), or by `{sha256-checksum}`. */
export type DownloadLayout = 'prefix' | 'checksum';

/** What the fixture saw of one request. */
export interface SeenRequest {
  readonly server: 'index' | 'downloads';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly conditional: boolean;
  readonly authorization?: string;
}

export function missingCrateSources(specs: readonly CrateSpec[]): string | undefined {
  const missing = specs.find((s) => !existsSync(path.join(s.dir, 'Cargo.toml')));
  return missing ? `the crate sources at ${missing.dir}` : undefined;
}

/**
 * A sparse registry on two loopback servers, as crates.io is on two hosts: the index (with
 * `config.json` naming the other server's download template) and the downloads. Index files
 * carry an ETag and a Last-Modified and answer conditional requests with 304. With a token, every
 * index request must carry it (`auth-required`), and the downloads server records what it got.
 */
export class CrateRegistry {
  readonly seen: SeenRequest[] = [];
  private readonly index = new Map<string, { body: Buffer; etag: string; modified: Date }>();
  private readonly files = new Map<string, Buffer>();
  private indexServer?: http.Server;
  private downloadServer?: http.Server;
  private indexPort = 0;
  private downloadPort = 0;

  private constructor(readonly crates: readonly PackedCrate[], private readonly token?: string, private readonly layout: DownloadLayout = 'prefix') {}

  get indexUrl(): string { return `http://127.0.0.1:${this.indexPort}/index/`; }
  get downloadsHost(): string { return `127.0.0.1:${this.downloadPort}`; }

  static async start(specs: readonly CrateSpec[], options: { token?: string; layout?: DownloadLayout } = {}): Promise<CrateRegistry> {
    const crates = await Promise.all(specs.map((s) => pack(s)));
    const registry = new CrateRegistry(crates, options.token, options.layout);
    await registry.listen();
    return registry;
  }

  crate(name: string, vers: string): PackedCrate {
    const found = this.crates.find((c) => c.name === name && c.vers === vers);
    if (!found) throw new Error(`the fixture has no ${name} ${vers}`);
    return found;
  }

  /** Requests seen, as `<server> <method> <path> <status>`. */
  lines(): string[] {
    return this.seen.map((s) => `${s.server} ${s.method} ${s.path} ${s.status}`);
  }

  /** Restarts both servers on their ports (after `stop`). */
  async listen(): Promise<void> {
    this.indexServer = http.createServer((req, res) => this.serveIndex(req, res));
    this.downloadServer = http.createServer((req, res) => this.serveDownload(req, res));
    this.downloadPort = await listen(this.downloadServer, this.downloadPort);
    this.indexPort = await listen(this.indexServer, this.indexPort);
    if (this.index.size === 0) this.publish();
  }

  async stop(): Promise<void> {
    await Promise.all([this.indexServer, this.downloadServer].map((s) => s && new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
    this.indexServer = this.downloadServer = undefined;
  }

  private publish(): void {
    const dl = this.layout === 'prefix' ? '/files/{lowerprefix}/{crate}/{crate}-{version}.crate' : '/sha256/{sha256-checksum}';
    const config: Record<string, unknown> = { dl: `http://${this.downloadsHost}${dl}`, api: `http://127.0.0.1:${this.indexPort}/web` };
    if (this.token) config['auth-required'] = true;
    this.put('config.json', Buffer.from(JSON.stringify(config)));
    const byFile = new Map<string, string[]>();
    for (const c of this.crates) {
      const index = indexPath(c.name);
      byFile.set(index, [...(byFile.get(index) ?? []), c.line]);
      const file = this.layout === 'prefix' ? `/files/${indexPath(c.name).split('/').slice(0, -1).join('/')}/${c.name}/${c.name}-${c.vers}.crate` : `/sha256/${c.cksum}`;
      this.files.set(file, c.served);
    }
    for (const [file, lines] of byFile) this.put(file, Buffer.from(`${lines.join('\n')}\n`));
  }

  private put(file: string, body: Buffer): void {
    // Whole seconds, as Last-Modified carries them.
    const modified = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    this.index.set(file, { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`, modified });
  }

  private serveIndex(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body?: Buffer | string, headers: http.OutgoingHttpHeaders = {}) => {
      this.seen.push({
        server: 'index', method: req.method ?? '', path: url.pathname + url.search, status,
        conditional: Boolean(req.headers['if-none-match'] || req.headers['if-modified-since']), authorization: req.headers.authorization,
      });
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (this.token && req.headers.authorization !== this.token) return send(401, 'a token is required\n', { 'www-authenticate': 'Cargo login_url="http://127.0.0.1/me"' });
    if (url.pathname === '/web/api/v1/crates') {
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const found = [...new Map(this.crates.filter((c) => c.name.includes(q) && !c.yanked).map((c) => [c.name, c])).values()];
      const body = JSON.stringify({ crates: found.map((c) => ({ name: c.name, max_version: c.vers, description: `the fixture's ${c.name}` })), meta: { total: found.length } });
      return send(200, body, { 'content-type': 'application/json' });
    }
    const file = url.pathname.startsWith('/index/') ? this.index.get(url.pathname.slice('/index/'.length)) : undefined;
    if (!file) return send(404, 'not found\n');
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const unchanged = inm !== undefined ? inm === file.etag : ims !== undefined && new Date(ims).getTime() >= file.modified.getTime();
    const headers = { etag: file.etag, 'last-modified': file.modified.toUTCString(), 'content-type': url.pathname.endsWith('.json') ? 'application/json' : 'text/plain' };
    if (unchanged) return send(304, undefined, headers);
    send(200, file.body, { ...headers, 'content-length': file.body.length });
  }

  private serveDownload(req: http.IncomingMessage, res: http.ServerResponse): void {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const body = this.files.get(pathname);
    this.seen.push({ server: 'downloads', method: req.method ?? '', path: pathname, status: body ? 200 : 404, conditional: false, authorization: req.headers.authorization });
    if (!body) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Packs one crate: the sources' files under `<name>-<version>/`, and its index line from the manifest. */
async function pack(spec: CrateSpec): Promise<PackedCrate> {
  const manifest = await readManifest(spec.dir);
  const name = spec.name ?? manifest.name;
  const vers = spec.version ?? manifest.version;
  const files: TarFile[] = [];
  for (const rel of await walk(spec.dir)) {
    // Debian's checksum file describes Debian's copy, not this crate.
    if (rel === '.cargo-checksum.json') continue;
    let bytes = await readFile(path.join(spec.dir, rel));
    if (rel === 'Cargo.toml') bytes = Buffer.from(renamed(bytes.toString('utf8'), manifest, name, vers));
    const mode = ((await stat(path.join(spec.dir, rel))).mode & 0o111) ? 0o755 : 0o644;
    files.push({ path: `${name}-${vers}/${rel}`, bytes, mode });
  }
  const bytes = tarGz(files);
  const cksum = createHash('sha256').update(bytes).digest('hex');
  const served = spec.tamper ? Buffer.from(bytes) : bytes;
  if (spec.tamper) served[served.length - 5]! ^= 0xff;
  const { features, features2 } = splitFeatures(manifest.features);
  const line = JSON.stringify({
    name, vers, deps: manifest.dependencies.map(indexDependency), cksum, features, ...(features2 ? { features2, v: 2 } : {}),
    yanked: spec.yanked ?? false, links: manifest.links, rust_version: manifest.rust_version ?? null,
  });
  return { name, vers, cksum, bytes, served, line, yanked: spec.yanked ?? false };
}

interface Manifest {
  name: string; version: string; links: string | null; rust_version?: string | null;
  features: Record<string, string[]>;
  dependencies: { name: string; req: string; kind: string | null; optional: boolean; uses_default_features: boolean; features: string[]; target: string | null; rename: string | null }[];
}

async function readManifest(dir: string): Promise<Manifest> {
  const { stdout } = await exec(RUSTUP_CARGO, ['metadata', '--no-deps', '--offline', '--format-version', '1', '--manifest-path', path.join(dir, 'Cargo.toml')], {
    cwd: dir, env: { ...process.env, CARGO_TARGET_DIR: '/nonexistent-cargo-target' }, timeout: 60_000,
  });
  return (JSON.parse(stdout) as { packages: Manifest[] }).packages[0]!;
}

function indexDependency(d: Manifest['dependencies'][number]) {
  return {
    name: d.rename ?? d.name, req: d.req, features: d.features, optional: d.optional, default_features: d.uses_default_features,
    target: d.target, kind: d.kind ?? 'normal', ...(d.rename ? { package: d.name } : {}),
  };
}

/** Features that use `dep:` or `?/` go in `features2` (index format v2), as crates.io writes them. */
function splitFeatures(all: Record<string, string[]>): { features: Record<string, string[]>; features2?: Record<string, string[]> } {
  const features: Record<string, string[]> = {};
  const features2: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(all)) (v.some((f) => f.startsWith('dep:') || f.includes('?/')) ? features2 : features)[k] = v;
  return Object.keys(features2).length ? { features, features2 } : { features };
}

/** The manifest with the `[package]` name and version a renamed or re-versioned crate is published under. */
function renamed(toml: string, manifest: Manifest, name: string, vers: string): string {
  return toml.replace(`name = "${manifest.name}"`, `name = "${name}"`).replace(`version = "${manifest.version}"`, `version = "${vers}"`);
}

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...await walk(root, p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
