import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogLine } from './log-capture.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** This kit runs from the core's TypeScript source (inside the workspace) or from its build (dist/testing). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const SOURCE_BIN = path.resolve(HERE, '../cli/bin.ts');
const BUILT_BIN = path.resolve(HERE, '../../bin/cacheforge.js');
const WORKSPACE = path.resolve(HERE, '../../../..');

/** A `cacheforge start` running as its own process. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** The complete JSON log lines it printed so far, parsed (other output skipped). */
  logLines(): LogLine[];
  /** Resident memory in bytes, from /proc. */
  rss(): number;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const START_TIMEOUT_MS = 45_000;

/**
 * Starts `cacheforge start --config <file> --port 0` and waits for its "listening" log line. The
 * child runs the core this kit came with: from the workspace's source through tsx, or the built
 * `cacheforge` command with this process's Node options (a loader such as tsx included, so a
 * plugin written in TypeScript loads). `built` runs the compiled command from the workspace too
 * (built first, so it is current): memory measurements must not count the TypeScript transpiler.
 */
export async function spawnCacheForge(configFile: string, args: string[] = [], options: { built?: boolean } = {}): Promise<CliProcess> {
  const source = FROM_SOURCE && !options.built;
  if (FROM_SOURCE && options.built) execFileSync(path.join(WORKSPACE, 'node_modules', '.bin', 'tsc'), ['-b'], { cwd: WORKSPACE, stdio: 'inherit' });
  const command = source ? ['--import', 'tsx', '--conditions=source', SOURCE_BIN] : [...(FROM_SOURCE ? [] : process.execArgv), BUILT_BIN];
  const child = spawn(process.execPath, [...command, 'start', '--config', configFile, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: process.env,
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    // Started from source, a child transpiles the whole core through tsx first: with three starting at
    // once on a loaded 2-core machine that passed 15 s. The bound is for a process that never starts.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cacheforge did not start within ${START_TIMEOUT_MS / 1000}s:\n${out}`)); }, START_TIMEOUT_MS);
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
    logLines: () => parseLogLines(out),
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

function parseLogLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  // The last piece has no newline yet: it may be half a line.
  for (const line of text.split('\n').slice(0, -1)) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // stdout and stderr interleave; a line they broke is not a log line
    }
  }
  return lines;
}
