// The measuring tools: wrk for small hits, curl for downloads, sha256 checks, RSS sampling.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { runCommand } from './proc.mjs';

/** One GET with node's http client (readiness probes and header checks): { status, headers, bytes }. */
export function httpGet(url, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (d) => { bytes += d.length; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

const CURL_FORMAT = '\n@@ %{http_code} %{size_download} %{time_starttransfer} %{time_total} %{speed_download}';

/**
 * Downloads `url` with curl into `out` (default /dev/null), bounded by `maxTime` seconds.
 * Returns { code, size, ttfb, total, speed (bytes/s), headers (lower-cased) }.
 */
export async function curl(url, { out = '/dev/null', maxTime = 120 } = {}) {
  const args = ['-sS', '--noproxy', '*', '--max-time', String(maxTime), '-D', '-', '-o', out, '-w', CURL_FORMAT, url];
  const result = await runCommand('curl', args, { timeoutMs: (maxTime + 10) * 1000 });
  return parseCurl(result.stdout, result.stderr);
}

function parseCurl(stdout, stderr) {
  const at = stdout.lastIndexOf('\n@@ ');
  if (at === -1) throw new Error(`curl gave no timing line: ${stderr.trim()}`);
  const [code, size, ttfb, total, speed] = stdout.slice(at + 4).trim().split(' ').map(Number);
  const headers = {};
  // With redirects or 100-continue there can be several header blocks; keep the last one.
  const blocks = stdout.slice(0, at).split(/\r?\n\r?\n/).filter((b) => b.trim());
  for (const line of (blocks.at(-1) ?? '').split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { code, size, ttfb, total, speed, headers, error: stderr.trim() || undefined };
}

/**
 * wrk against `url`: { rps, p50, p90, p99 (ms), requests, non2xx, socketErrors, mibPerSec }.
 * Bounded by `-d` (plus a margin as a hard timeout).
 */
export async function wrk(url, { connections = 32, threads = 2, seconds = 10, headers = [] } = {}) {
  const args = ['-c', String(connections), '-t', String(threads), '-d', `${seconds}s`, '--latency', '--timeout', '5s', ...headers.flatMap((h) => ['-H', h]), url];
  const { code, stdout, stderr } = await runCommand('wrk', args, { timeoutMs: (seconds + 20) * 1000 });
  if (code !== 0) throw new Error(`wrk failed (${code}): ${stderr || stdout}`);
  const num = (re) => { const m = re.exec(stdout); return m ? Number(m[1]) : undefined; };
  const latency = (pct) => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout);
    if (!m) return undefined;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(stdout);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: latency(50), p90: latency(90), p99: latency(99),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    socketErrors: errors ? errors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    mibPerSec: transfer ? Number(transfer[1]) * { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 }[transfer[2]] : undefined,
  };
}

/** sha256 of a file, hex. */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 }).on('data', (d) => hash.update(d)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });
}

/**
 * Samples a process's VmRSS every `everyMs` (default 0.25 s). `phase(name)` labels what follows;
 * `peaks` is the highest RSS (MiB) per phase, `peak` the highest overall.
 */
export class RssSampler {
  constructor(pid, everyMs = 250) {
    this.pid = pid;
    this.phaseName = 'start';
    this.peaks = {};
    this.peak = 0;
    this.samples = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  phase(name) {
    this.phaseName = name;
    this.sample();
  }

  sample() {
    let text;
    try { text = readFileSync(`/proc/${this.pid}/status`, 'utf8'); } catch { return; }
    const m = /^VmRSS:\s+(\d+) kB/m.exec(text);
    if (!m) return;
    const mib = Number(m[1]) / 1024;
    this.samples++;
    this.peak = Math.max(this.peak, mib);
    this.peaks[this.phaseName] = Math.max(this.peaks[this.phaseName] ?? 0, mib);
  }

  stop() {
    this.sample();
    clearInterval(this.timer);
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const min = (xs) => Math.min(...xs);
export const max = (xs) => Math.max(...xs);
