// Small-hit latency probe, in a process of its own so the benchmark's downloads cannot slow it:
// node probe.mjs URL SECONDS CLIENTS -> one JSON line { requests, errors, p50, p99, max } (ms).
import http from 'node:http';

const [url, seconds, clients] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 4)];
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const latencies = [];
let errors = 0;
const until = performance.now() + seconds * 1000;

function once() {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) latencies.push(performance.now() - started); else errors++; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
  });
}

await Promise.all(Array.from({ length: clients }, async () => { while (performance.now() < until) await once(); }));
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ requests: latencies.length, errors, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN })}\n`);
