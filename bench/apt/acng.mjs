// apt-cacher-ng (Debian's package) as the peer: its own config, cache and logs in a temp dir, run
// in the foreground as a child of the benchmark, so the machine's service (and its config in
// /etc/apt-cacher-ng) never matters.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePortBelow, startProcess, stopProcess, waitFor } from '../lib/proc.mjs';
import { httpGet } from '../lib/measure.mjs';

const BINARY = '/usr/sbin/apt-cacher-ng';

/**
 * Starts apt-cacher-ng on 127.0.0.1. Its port must be below 32768: 3.7.4 prints the port it binds
 * with `%hi` (a signed short) into a 6-byte buffer before getaddrinfo, so 32768 and up become
 * "-3276" and it exits with "Error resolving address for binding: Success" (the kernel's free
 * ports, 32768-60999 here, all fail that way).
 */
export async function startAptCacherNg(dir) {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: apt-get install -y apt-cacher-ng`);
  const port = await freePortBelow(32768);
  for (const sub of ['cache', 'log', 'conf']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'conf/acng.conf'), [
    `CacheDir: ${dir}/cache`, `LogDir: ${dir}/log`, 'SupportDir: /usr/lib/apt-cacher-ng',
    `Port: ${port}`, 'BindAddress: 127.0.0.1', `PidFile: ${dir}/acng.pid`, `SocketPath: ${dir}/acng.socket`,
    'ReportPage: acng-report.html', 'ExThreshold: 4',
  ].join('\n') + '\n');
  const out = path.join(dir, 'acng.out');
  const child = startProcess(BINARY, ['-c', path.join(dir, 'conf'), 'ForeGround=1'], { logFile: out });
  const said = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().slice(-500) : '');
  try {
    await waitFor('apt-cacher-ng', async () => {
      if (child.exitCode !== null) throw new Error(`apt-cacher-ng exited with ${child.exitCode}: ${said()}`);
      return (await httpGet(`http://127.0.0.1:${port}/acng-report.html`).catch(() => ({ status: 0 }))).status === 200;
    }, 15_000);
  } catch (err) {
    await stopProcess(child, 'SIGKILL');
    throw new Error(`${err.message}${said() ? ` (it said: ${said()})` : ''}`);
  }
  return {
    label: 'apt-cacher-ng', url: `http://127.0.0.1:${port}/`, pid: child.pid,
    /** Bytes it received from upstreams so far: the `I` (incoming) records of its transfer log. */
    upstreamBytes: () => transferLog(path.join(dir, 'log/apt-cacher.log')).incoming,
    stop: () => stopProcess(child, 'SIGTERM', 10_000),
  };
}

/** apt-cacher-ng's transfer log: `<time>|I|<bytes>|<client>|<file>` per fetch, `O` per delivery. */
function transferLog(file) {
  let incoming = 0;
  if (!existsSync(file)) return { incoming };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [, kind, bytes] = line.split('|');
    if (kind === 'I') incoming += Number(bytes) || 0;
  }
  return { incoming };
}
