import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, '../../src/cli/bin.ts');
const BUILT_BIN = path.resolve(HERE, '../../bin/cacheforge.js');
const ROOT = path.resolve(HERE, '../../../..');

/** A `cacheforge start` running as its own process (from source, through tsx). */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resident memory in bytes, from /proc. */
  rss(): number;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `cacheforge start --config <file> --port 0` and waits for its "listening" log line. From
 * source through tsx by default; with `built`, the compiled command users run (built first, so
 * it is current): memory measurements must not count the TypeScript transpiler.
 */
export async function spawnCacheForge(configFile: string, args: string[] = [], options: { built?: boolean } = {}): Promise<CliProcess> {
  if (options.built) execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b'], { cwd: ROOT, stdio: 'inherit' });
  const command = options.built ? [BUILT_BIN] : ['--import', 'tsx', '--conditions=source', BIN];
  const child = spawn(process.execPath, [...command, 'start', '--config', configFile, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: process.env,
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cacheforge did not start:\n${out}`)); }, 15_000);
    const onData = () => {
      const line = out.split('\n').find((l) => l.includes('"cacheforge listening"'));
      if (line) { clearTimeout(timer); resolve((JSON.parse(line) as { port: number }).port); }
    };
    child.stdout!.on('data', onData);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`cacheforge exited with ${code}:\n${out}`)); });
  });
  return {
    child, url: `http://127.0.0.1:${port}`,
    output: () => out,
    rss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
