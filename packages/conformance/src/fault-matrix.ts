import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  FAULT_MODES, FaultUpstream, request, spawnCacheForge, waitFor, writeTestConfig, type CliProcess, type FaultMode, type RemoteInput,
} from '@cacheforge/core/testing';

/**
 * The core's fault matrix, which every format runs against its own URL space: each way an
 * upstream can break (`FaultMode`), for each status and body size, driven by concurrent clients
 * through a real `cacheforge start`. Whatever the upstream does, the process stays up, no
 * response that ends cleanly carries anything but the whole artifact, nothing partial is stored,
 * and once the upstream heals every artifact is served whole.
 */

export const FAULT_STATUSES = [200, 206, 304, 404, 403, 429, 500] as const;
export const FAULT_SIZES = [0, 10, 64 * 1024, 1024 * 1024] as const;
/** Modes whose outcome does not depend on the body: run with one size. */
const BODILESS: ReadonlySet<FaultMode> = new Set(['status-line-only', 'slow-headers', 'huge-header']);

/** One thing a client asks for in a case, and what a healthy upstream makes of it. */
export interface FaultTarget {
  /** The request path on the proxy (`/<remote>/…`). */
  readonly path: string;
  /** The whole body a complete 200 must carry (exactly, unless `check` says otherwise). */
  readonly body: Buffer;
  /** For a body the format rewrites: what is wrong with `received`, or undefined when it is whole. */
  readonly check?: (received: Buffer) => string | undefined;
  /** Headers the client sends. */
  readonly headers?: Record<string, string>;
  /** Upstream paths that misbehave in this case (the rest of what the format fetches is healthy). */
  readonly faulty: readonly string[];
  /** A mutable document: once stored, a faulty upstream must be answered with the stored copy. */
  readonly mutable?: boolean;
}

/** What a format tells the matrix. */
export interface FaultFormat {
  readonly name: string;
  /** `plugins` entries (paths or package names). */
  readonly plugins: readonly string[];
  /** The remotes of the config, given the fault upstream's URL. */
  remotes(upstreamUrl: string): Record<string, RemoteInput>;
  /**
   * Registers on `upstream` the healthy artifacts one case needs (named after `id`, so no two
   * cases share a key) and returns the requests the case makes.
   */
  targets(upstream: FaultUpstream, id: string, size: number): FaultTarget[];
}

export interface FaultCase { readonly mode: FaultMode; readonly status: number; readonly size: number }

export function faultCases(): FaultCase[] {
  const cases: FaultCase[] = [];
  for (const mode of FAULT_MODES) {
    if (mode === 'garbage') { cases.push({ mode, status: 0, size: 10 }); continue; }
    for (const status of FAULT_STATUSES) {
      for (const size of BODILESS.has(mode) ? [10] : FAULT_SIZES) cases.push({ mode, status, size });
    }
  }
  return cases;
}

export interface MatrixOptions {
  /** Requests per case (the issue asks 50). */
  readonly iterations?: number;
  /** Clients of one case in flight at once. */
  readonly concurrency?: number;
  /** Cases in flight at once. */
  readonly parallelCases?: number;
}

/** One case as planned: its fault, its id (the artifacts' name) and what its clients ask for. */
interface PlannedCase { readonly fault: FaultCase; readonly id: string; readonly targets: FaultTarget[] }

/** A matrix under way: the upstream, the `cacheforge start` in front of it, its folder, its cases. */
interface MatrixRun { upstream: FaultUpstream; cli: CliProcess; dir: string; planned: PlannedCase[] }

/** Declares the matrix's mocha suite for `format`. */
export function describeFaultMatrix(format: FaultFormat, options: MatrixOptions = {}): void {
  const settings = { iterations: options.iterations ?? 50, concurrency: options.concurrency ?? 10, parallelCases: options.parallelCases ?? 8 };
  describe(`${format.name}: the core's fault matrix (raw-socket upstream, real \`cacheforge start\`)`, function () {
    this.timeout(120_000);
    let run: MatrixRun | undefined;
    const started = () => run!;
    before(async () => { run = await startMatrix(format); });
    after(async () => {
      await run?.cli.stop();
      await run?.upstream.stop();
      if (run) await rm(run.dir, { recursive: true, force: true });
    });

    it(`survives every fault ${settings.iterations}× with concurrent clients; nothing partial is served whole or stored`, async function () {
      // A bound, not a speed check: on the 2-core CI machine with two suites at once it took 80-86 s and
      // sometimes passed 120 s, which then failed the heal test after it too.
      this.timeout(300_000);
      await survivesEveryFault(started(), settings);
    });
    it('once the upstream heals, every artifact is served whole', async () => { await servedWholeOnceHealed(started()); });
    it('with documents stored, the same faults on revalidation are answered from the stored copy (STALE)', async () => {
      await staleOnRevalidation(started());
    });
  });
}

/** Plans every case on a fresh fault upstream and starts `cacheforge start` in front of it. */
async function startMatrix(format: FaultFormat): Promise<MatrixRun> {
  const upstream = await new FaultUpstream().start();
  upstream.slowByteMs = 100;
  const dir = await mkdtemp(path.join(tmpdir(), `cf-faults-${format.name}-`));
  const planned: PlannedCase[] = [];
  for (const fault of faultCases()) {
    const id = `${fault.mode}-${fault.status}-${fault.size}`.replace(/[^a-z0-9-]/g, '');
    const targets = format.targets(upstream, id, fault.size);
    for (const target of targets) for (const p of target.faulty) upstream.faults.set(p, { mode: fault.mode, status: fault.status });
    planned.push({ fault, id, targets });
  }
  const file = await writeTestConfig(dir, {
    log: { level: 'info' },
    metadata: { sqlite: { filename: path.join(dir, 'cf.db') } },
    // One retry, and attempts short enough that a stalled upstream costs a second, not a minute.
    upstream: { retries: 1, connectTimeout: '2s', responseTimeout: '1s', idleTimeout: '1s' },
    plugins: [...format.plugins],
    remotes: forFaults(format.remotes(upstream.url)),
  });
  return { upstream, dir, planned, cli: await spawnCacheForge(file) };
}

async function survivesEveryFault(run: MatrixRun, settings: Required<MatrixOptions>): Promise<void> {
  const { cli, dir } = run;
  const problems: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: settings.parallelCases * settings.concurrency });
  const queue = [...run.planned];
  await Promise.all(Array.from({ length: settings.parallelCases }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      await driveCase(cli, c, settings, agent, problems);
      if (cli.child.exitCode !== null) throw new Error(`cacheforge exited (${cli.child.exitCode}) during ${c.fault.mode} ${c.fault.status}:\n${cli.output().slice(-3000)}`);
    }
  }));
  agent.destroy();
  expect(cli.child.exitCode, cli.output().slice(-3000)).to.equal(null);
  expect(problems.slice(0, 20)).to.deep.equal([]);
  const health = await request(`${cli.url}/-/health`);
  expect(health.status).to.equal(200);
  // Every failed download is discarded by the time its clients have their answer; the last
  // ones may still be closing their temp files.
  await tempFolderEmpty(dir);
  const metrics = (await request(`${cli.url}/-/metrics`)).body.toString();
  expect(/^cacheforge_uncaught_errors_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? '0', 'errors that escaped a request').to.equal('0');
  expect(cli.output()).to.not.match(/Unhandled|uncaught|escaped a request/i);
}

/** `concurrency` clients sharing `iterations` requests of one case; what is wrong goes to `problems`. */
async function driveCase(cli: CliProcess, { fault, targets }: PlannedCase, settings: Required<MatrixOptions>, agent: http.Agent, problems: string[]): Promise<void> {
  let next = 0;
  const client = async () => {
    for (let i = next++; i < settings.iterations; i = next++) {
      const target = targets[i % targets.length]!;
      // Mostly whole GETs; some HEADs and ranges, which take other paths through the pipeline.
      const variant = i % 10 === 9 ? 'HEAD' : i % 10 === 8 ? 'RANGE' : 'GET';
      const r = await get(cli.url + target.path, variant === 'RANGE' ? { ...target.headers, range: 'bytes=0-4' } : target.headers, agent, variant === 'HEAD' ? 'HEAD' : 'GET');
      const label = `${fault.mode} ${fault.status} ${fault.size}B ${variant} ${target.path}`;
      if (variant !== 'GET') {
        if (r.status === 0) problems.push(`${label}: no response (${r.error?.message})`);
        if (variant === 'RANGE' && r.status === 206 && r.complete && !target.check && !r.body.equals(target.body.subarray(0, 5))) problems.push(`${label}: a clean 206 carried the wrong bytes`);
        continue;
      }
      const wrong = r.status === 200 && r.complete ? whatIsWrong(target, r.body) : undefined;
      if (wrong) problems.push(`${label}: a clean 200 (${r.headers['x-cache-status']}) ${wrong}`);
      if (r.headers['x-cache-status'] === 'HIT' && !r.complete) problems.push(`${label}: a HIT broke off after ${r.body.length} bytes`);
      if (r.status === 0) problems.push(`${label}: no response (${r.error?.message})`);
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, client));
}

async function servedWholeOnceHealed(run: MatrixRun): Promise<void> {
  const { cli, upstream } = run;
  const faults = new Map(upstream.faults);
  upstream.faults.clear();
  const wrong: string[] = [];
  const queue = run.planned.flatMap((p) => p.targets);
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      let r = await get(cli.url + t.path, t.headers);
      // A 504 is the matrix's own 1 s attempts running out on a loaded machine (sixteen 1 MiB fills
      // at once), not a fault left behind: a second ask must then be served whole.
      if (r.status === 504) r = await get(cli.url + t.path, t.headers);
      if (r.status !== 200 || !r.complete || whatIsWrong(t, r.body)) wrong.push(`${t.path}: ${r.status} ${r.headers['x-cache-status']} ${r.body.length}/${t.body.length} bytes`);
    }
  }));
  expect(wrong.slice(0, 20)).to.deep.equal([]);
  expect(cli.child.exitCode).to.equal(null);
  for (const [p, fault] of faults) upstream.faults.set(p, fault);
}

async function staleOnRevalidation(run: MatrixRun): Promise<void> {
  const { cli } = run;
  const wrong: string[] = [];
  const queue = run.planned.flatMap((p) => p.targets.filter((t) => t.mutable).map((t) => ({ fault: p.fault, target: t })));
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const { fault, target } = c;
      const r = await get(cli.url + target.path, target.headers);
      // A 404 whose head arrived is the upstream saying the document is gone: it is forgotten.
      if (r.status === 404 && fault.status === 404) continue;
      if (r.status !== 200 || !r.complete || whatIsWrong(target, r.body)) {
        wrong.push(`${fault.mode} ${fault.status} ${target.path}: ${r.status} ${r.headers['x-cache-status']} ${r.body.length}/${target.body.length} bytes`);
      }
    }
  }));
  expect(wrong.slice(0, 20)).to.deep.equal([]);
  expect(cli.child.exitCode).to.equal(null);
  await tempFolderEmpty(run.dir);
}

async function tempFolderEmpty(dir: string): Promise<void> {
  const tmp = path.join(dir, 'blobs', 'tmp');
  await waitFor('the storage temp folder to be empty', async () => (await readdir(tmp)).length === 0, 10_000);
}

function whatIsWrong(target: FaultTarget, received: Buffer): string | undefined {
  if (target.check) return target.check(received);
  return received.equals(target.body) ? undefined : `carried ${received.length} bytes, not the artifact's ${target.body.length}`;
}

/**
 * The matrix's 404s would be remembered past the heal, correctly (a 404 is one even when its body
 * breaks off): the heal must see the upstream again. Documents are revalidated on every request,
 * so every request for a stored one meets the upstream's faults. The host is never marked down:
 * with hundreds of cases failing at once it would be, correctly, and the heal would wait out its
 * backoff (health has its own tests, `test/upstream/health.test.ts`).
 */
function forFaults(remotes: Record<string, RemoteInput>): Record<string, RemoteInput> {
  return Object.fromEntries(Object.entries(remotes).map(([name, r]) => [name, { ...r, ttl: { ...r.ttl, negative: 0, mutable: 0 }, client: { ...r.client, downAfter: 0 } }]));
}

interface Got { status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean; error?: Error }

/** A GET that never rejects: a broken connection is an answer too. */
function get(url: string, headers: Record<string, string> = {}, agent?: http.Agent, method = 'GET'): Promise<Got> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', (error) => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete: false, error }));
      res.on('aborted', () => undefined);
    });
    req.on('error', (error) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false, error }));
    req.end();
  });
}
