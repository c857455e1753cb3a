import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/bin.ts');

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

/** Starts `cacheforge start --config <file> --port 0` and waits for its "listening" log line. */
export async function spawnCacheForge(configFile: string, args: string[] = []): Promise<CliProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', BIN, 'start', '--config', configFile, '--port', '0', ...args], {
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
