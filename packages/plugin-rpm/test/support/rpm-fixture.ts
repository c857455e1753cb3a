import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasProgram, run } from '@cacheforge/core/testing';

/** Programs the fixture and the client need (Debian: rpm, createrepo-c, dnf, gnupg). */
export const TOOLS = ['rpmbuild', 'createrepo_c', 'dnf', 'gpg', 'rpm'] as const;
export function missingTool(): string | undefined {
  return TOOLS.find((t) => !hasProgram(t));
}

/** Where the fixture's repositories live below the mirror root, as on Fedora's mirrors. */
export const RELEASES = 'releases/40/Everything/x86_64/os/';
export const UPDATES = 'updates/40/Everything/x86_64/';
/** A second tree of the same packages whose repomd.xml is signed (`repo_gpgcheck=1`). */
export const SIGNED = 'signed/40/x86_64/os/';
/** An Enterprise-Linux-shaped tree, for AlmaLinux's `mirrorlist/<version>/<repo>` form. */
export const BASEOS = '40/BaseOS/x86_64/os/';

export interface SeenRequest { readonly method: string; readonly path: string; readonly range?: string }

function spec(name: string, version: string, text: string): string {
  return `Name: ${name}\nVersion: ${version}\nRelease: 1\nSummary: Cache Forge test fixture\nLicense: MIT\nBuildArch: noarch\n` +
    `%description\nOne-file package used as an upstream fixture.\n%install\nmkdir -p %{buildroot}/usr/share/${name}\n` +
    `echo "${text}" > %{buildroot}/usr/share/${name}/hello.txt\n%files\n/usr/share/${name}/hello.txt\n`;
}

/**
 * Real rpms (built with rpmbuild) in createrepo_c repositories, served by a static HTTP server on
 * 127.0.0.1 that records what it is asked and can be stopped and started on the same port.
 * `broken-fixture`'s bytes are changed after createrepo_c listed it (same size, other sha256).
 */
export class RpmFixture {
  readonly requests: SeenRequest[] = [];
  private server?: http.Server;
  private port = 0;

  private constructor(readonly dir: string, readonly www: string, readonly gnupg: string) {}

  static async build(): Promise<RpmFixture> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-rpm-fixture-'));
    const fixture = new RpmFixture(dir, path.join(dir, 'www'), path.join(dir, 'gnupg'));
    await fixture.make();
    return fixture;
  }

  private async make(): Promise<void> {
    const build = path.join(this.dir, 'build');
    const packages = [['hello-fixture', '1.0', 'hello from hello-fixture 1.0'], ['broken-fixture', '1.0', 'broken'], ['hello-fixture', '1.1', 'hello from hello-fixture 1.1']];
    for (const [name, version, text] of packages) {
      const file = path.join(this.dir, `${name}-${version}.spec`);
      await writeFile(file, spec(name!, version!, text!));
      await run('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${build}`, file]);
    }
    const rpms = path.join(build, 'RPMS', 'noarch');
    const place = async (repo: string, names: string[]) => {
      for (const name of names) {
        const dest = path.join(this.www, repo, 'Packages', name[0]!);
        await mkdir(dest, { recursive: true });
        await copyFile(path.join(rpms, name), path.join(dest, name));
      }
      await run('createrepo_c', ['-q', path.join(this.www, repo)]);
    };
    await place(RELEASES, ['hello-fixture-1.0-1.noarch.rpm', 'broken-fixture-1.0-1.noarch.rpm']);
    await place(UPDATES, ['hello-fixture-1.1-1.noarch.rpm']);
    await place(SIGNED, ['hello-fixture-1.0-1.noarch.rpm']);
    await place(BASEOS, ['hello-fixture-1.0-1.noarch.rpm']);
    const broken = path.join(this.www, RELEASES, 'Packages/b/broken-fixture-1.0-1.noarch.rpm');
    const bytes = await readFile(broken);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(broken, bytes);
    // The signed tree: a throwaway key signs repomd.xml; the public key is served beside it.
    await mkdir(this.gnupg, { recursive: true, mode: 0o700 });
    const gpg = (args: string[]) => run('gpg', ['--homedir', this.gnupg, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
    await gpg(['--quick-gen-key', 'Fixture Repo <fixture@example.invalid>', 'rsa2048', 'sign', 'never']);
    await gpg(['--detach-sign', '--armor', path.join(this.www, SIGNED, 'repodata/repomd.xml')]);
    await gpg(['--armor', '--output', path.join(this.www, 'RPM-GPG-KEY-fixture'), '--export', 'fixture@example.invalid']);
    await run('gpgconf', ['--homedir', this.gnupg, '--kill', 'all']).catch(() => undefined);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async file(relative: string): Promise<Buffer> {
    return readFile(path.join(this.www, relative));
  }

  async sha256(relative: string): Promise<string> {
    return createHash('sha256').update(await this.file(relative)).digest('hex');
  }

  /** The repository's metadata file of `type` (`primary`), as repomd.xml names it. */
  async metadataFile(repo: string, type: string): Promise<string> {
    const files = await readdir(path.join(this.www, repo, 'repodata'));
    const name = files.find((f) => f.endsWith(`-${type}.xml.gz`) || f.endsWith(`-${type}.xml.zst`));
    if (!name) throw new Error(`no ${type} in ${repo}`);
    return `${repo}repodata/${name}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Closes the server (the upstream goes down); `start` brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '');
    this.requests.push({ method: req.method ?? 'GET', path: rel, range: req.headers.range });
    const file = path.join(this.www, rel);
    const info = rel.includes('..') ? undefined : await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const etag = `"${info.size}-${info.mtimeMs}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-length': info.size, etag, 'last-modified': info.mtime.toUTCString(), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
