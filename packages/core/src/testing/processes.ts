import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Whether a program is on PATH. */
export function hasProgram(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      return statSync(path.join(dir, name)).isFile();
    } catch {
      return false;
    }
  });
}

/** A loopback port free now (bound, then released), for servers that take a port number rather than 0. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunOptions { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }

/** Runs a program to completion (default bound 2 min); rejects with its output when it fails. */
export async function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(program, args, { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`.slice(0, 8000));
  }
}

/** The outcome of a client run: its exit code and its output (the last 6000 characters). */
export interface ClientRun { code: number; output: string }

/**
 * Runs a client (a package manager, a registry tool) to its end, bounded by `timeoutMs` (default
 * 3 min); never rejects: a failing client is an outcome a test asserts on.
 */
export function runClient(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `$ ${command} ${args.join(' ')}\n${stdout}\n${stderr}`.slice(-6000) });
    });
  });
}

/** A client's `--version` output, or undefined when it is not installed (or does not run). */
export function clientVersion(command: string): string | undefined {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: '/' }).trim();
  } catch {
    return undefined;
  }
}

/** A long-running child process with its output kept (the last 64 KiB) for failure messages. */
export class Daemon {
  output = '';
  private readonly child: ChildProcess;
  private exited = false;

  constructor(program: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(program, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => { this.output = (this.output + chunk.toString()).slice(-65536); };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.child.on('exit', () => { this.exited = true; });
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * Polls `probe` every 100 ms until it returns true (a probe that throws counts as not yet); fails
 * after `timeoutMs`, or at once when `daemon` exits, with the daemon's output.
 */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000, daemon?: Daemon): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon && !daemon.running) throw new Error(`${what}: the process exited\n${daemon.output}`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${daemon ? `\n${daemon.output}` : ''}`);
}
