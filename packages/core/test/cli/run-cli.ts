import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Runs the real `cacheforge` command as a child process, the way a user does: the CLI's TypeScript
 * source through tsx, with the `source` export condition so workspace plugins load from source.
 */

/** The CLI entry (what bin/cacheforge.js runs, built). */
export const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
// NOTE: an absolute URL, because `--import tsx` resolves from the child's cwd, and the tests run
// the CLI in temp folders outside the workspace.
const TSX = import.meta.resolve('tsx');

/** What a finished CLI run left behind. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** Added to the inherited environment (`undefined` removes a variable). */
  env?: Record<string, string | undefined>;
}

function spawnCli(args: readonly string[], options: CliOptions): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A CACHEFORGE_CONFIG in the developer's shell must not leak into the tests.
  delete env.CACHEFORGE_CONFIG;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return spawn(process.execPath, ['--import', TSX, '--conditions=source', BIN, ...args], {
    cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Runs a command that ends by itself (`config check`, a start that fails) and collects its output.
 * One that is still running after 15 s (a start that should have failed but listens) is killed,
 * so a failing test never leaves a server behind; its result then has `signal: 'SIGKILL'`.
 */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** One JSON log line of the child's stdout. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** The complete JSON lines of `output` (a line still being written is left out). */
export function parseLogLines(output: string): LogLine[] {
  const lines = output.split('\n').slice(0, -1);
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

/** A `cacheforge start` child that reached `cacheforge listening`. */
export class RunningCli {
  stdout = '';
  stderr = '';
  private readonly exited: Promise<CliResult>;
  private finished = false;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => { this.stdout += c; });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { this.stderr += c; });
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => {
      this.finished = true;
      resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
    }));
  }

  /** Starts `cacheforge start ...args` and waits for its listening line; rejects with its output if it exits first. */
  static async start(args: readonly string[], options: CliOptions): Promise<RunningCli> {
    const cli = new RunningCli(spawnCli(['start', ...args], options));
    await new Promise<void>((resolve, reject) => {
      // A child that hangs before listening is killed here: the test never gets a handle to it.
      const timer = setTimeout(() => {
        void cli.kill().then(() => reject(new Error(`cacheforge did not listen within 15s:\n${cli.stderr}\n${cli.stdout}`)));
      }, 15_000);
      const check = () => {
        if (!cli.logLine('cacheforge listening')) return;
        clearTimeout(timer);
        cli.child.stdout!.off('data', check);
        resolve();
      };
      cli.child.stdout!.on('data', check);
      void cli.exited.then((r) => { clearTimeout(timer); reject(new Error(`cacheforge exited (${r.code ?? r.signal}) before listening:\n${r.stderr}\n${r.stdout}`)); });
    });
    return cli;
  }

  /** The parsed JSON log lines printed so far. */
  logLines(): LogLine[] {
    return parseLogLines(this.stdout);
  }

  logLine(msg: string): LogLine | undefined {
    return this.logLines().find((l) => l.msg === msg);
  }

  /** The port from the `cacheforge listening` line. */
  get port(): number {
    return this.logLine('cacheforge listening')!.port as number;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<CliResult> {
    if (!this.finished) this.child.kill(signal);
    return this.exited;
  }

  /** For after hooks: makes sure the child is gone, whatever state the test left it in. */
  async kill(): Promise<void> {
    if (this.finished) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** A temp folder (outside the workspace) with files written into it, removed by `remove()`. */
export class TempDir {
  private constructor(readonly path: string) {}

  static async create(prefix = 'cf-cli-'): Promise<TempDir> {
    return new TempDir(await mkdtemp(path.join(tmpdir(), prefix)));
  }

  /** Writes `content` (an object is written as JSON) at `relative`, creating folders; returns the absolute path. */
  async write(relative: string, content: string | object): Promise<string> {
    const file = path.join(this.path, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  }

  join(...parts: string[]): string {
    return path.join(this.path, ...parts);
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

/**
 * A complete config whose server binds 127.0.0.1 on a free port and keeps its data in `dir`; the
 * given keys replace the top-level ones.
 */
export function baseConfig(dir: TempDir, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, shutdownTimeout: '2s' },
    log: { level: 'info', requests: false },
    storage: { filesystem: { path: dir.join('data', 'blobs') } },
    metadata: { sqlite: { filename: dir.join('data', 'cacheforge.db') }, flushInterval: '100ms' },
    plugins: [],
    ...overrides,
  };
}
