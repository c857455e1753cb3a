import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, run } from '@cacheforge/core/testing';

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixture', 'goproxy.go');
/** Where Debian's golang-*-dev packages put Go sources (a GOPATH). */
export const GOCODE = '/usr/share/gocode';

/** One module version the fixture serves, zipped from a directory of Debian's Go sources. */
export interface ModuleSpec {
  readonly Dir: string;
  readonly Path: string;
  readonly Version: string;
  readonly Time: string;
  /** Recorded in the checksum database with its true hashes, then served altered. */
  readonly Tamper?: boolean;
}

/** What the fixture needs that may be missing: go, and the Debian packages of its sources. */
export function missingFixtureParts(modules: readonly ModuleSpec[]): string | undefined {
  if (!existsSync(path.join(GOCODE, 'src/golang.org/x/mod/sumdb/test.go'))) return 'golang-golang-x-mod-dev';
  const missing = modules.find((m) => !existsSync(m.Dir));
  return missing ? `the Go sources at ${missing.Dir}` : undefined;
}

/**
 * A module proxy (`/proxy/`) and a checksum database signed by a key made at start
 * (`/sumdb/sum.cf.test/`), served by a Go program built here from Debian's golang.org/x/mod.
 */
export class GoFixture {
  readonly requests: string[] = [];
  private constructor(private readonly dir: string, private child: ChildProcess | undefined, readonly port: number, readonly verifierKey: string) {}

  get proxyUrl(): string { return `http://127.0.0.1:${this.port}/proxy/`; }
  get sumdbUrl(): string { return `http://127.0.0.1:${this.port}/sumdb/sum.cf.test/`; }

  static async start(modules: readonly ModuleSpec[]): Promise<GoFixture> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-goproxy-'));
    const binary = path.join(dir, 'goproxy');
    await run('go', ['build', '-o', binary, SOURCE], {
      cwd: dir, env: { ...process.env, GO111MODULE: 'off', GOPATH: GOCODE, GOCACHE: path.join(dir, 'gocache'), GOFLAGS: '' }, timeoutMs: 300_000,
    });
    const spec = path.join(dir, 'modules.json');
    await writeFile(spec, JSON.stringify(modules));
    const child = spawn(binary, [spec], { stdio: ['ignore', 'pipe', 'pipe'] });
    const requests: string[] = [];
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const lines = err.split('\n');
      err = lines.pop()!;
      requests.push(...lines);
    });
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]!); });
      child.on('exit', (code) => reject(new Error(`the go fixture exited (${code}): ${err}`)));
    });
    const { port, vkey } = JSON.parse(first) as { port: number; vkey: string };
    const fixture = new GoFixture(dir, child, port, vkey);
    fixture.requests.push(...requests);
    child.stderr!.on('data', () => { fixture.requests.push(...requests.splice(0)); });
    return fixture;
  }

  /**
   * Makes the checksum database serve another tree signed by the same key: `forge` made-up
   * records, then the first `keep` records of the true tree (-1: all of them), then whatever is
   * looked up from then on. `'honest'` serves the true tree again.
   */
  async serveTree(tree: { keep: number; forge: number } | 'honest'): Promise<void> {
    const query = tree === 'honest' ? 'honest=1' : `keep=${tree.keep}&forge=${tree.forge}`;
    const r = await request(`http://127.0.0.1:${this.port}/control/sumdb?${query}`, { method: 'POST' });
    if (r.status !== 200) throw new Error(`the go fixture refused ${query}: ${r.status} ${r.body.toString()}`);
  }

  /** The request lines seen so far (`GET /proxy/...`). */
  seen(): string[] {
    return this.requests;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await gone;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
