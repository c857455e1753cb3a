// The printed table, the goals and the JSON file.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** Formats rows as an aligned text table (first column left, the others right). */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => (c === undefined || c === null ? '-' : String(c))));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

const f = (x, digits = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-');
const int = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : NaN);

/** The issue's goals, evaluated on one run's results. */
export function evaluateGoals(r) {
  const conc = r.concurrent.cacheforge;
  return [
    {
      goal: '100 MiB warm hits vs nginx proxy_cache', target: '>= 0.80x',
      value: ratio(r.hits100m.cacheforge.median, r.hits100m.nginx.median),
    },
    { goal: '1 KiB warm hits vs bare koa route', target: '>= 0.80x', value: ratio(r.hits1k.cacheforge.rps, r.hits1k.koa.rps) },
    {
      goal: 'cold miss total vs direct (25 MiB/s upstream)', target: '<= 1.10x',
      value: ratio(r.cold.throttled.cacheforge.total, r.cold.throttled.direct.total),
    },
    {
      goal: '32 concurrent misses: upstream GETs / max TTFB', target: '1 / < 0.5 s',
      value: conc.upstreamGets, text: `${conc.upstreamGets} / ${f(conc.ttfbMax, 3)} s`,
      met: conc.upstreamGets === 1 && conc.ttfbMax < 0.5 && conc.complete === conc.clients && conc.hashOk === conc.hashed,
    },
  ].map((g) => {
    const met = g.met ?? (g.target.startsWith('>=') ? g.value >= Number(g.target.slice(3, -1)) : g.value <= Number(g.target.slice(3, -1)));
    return { ...g, text: g.text ?? `${f(g.value)}x`, met };
  });
}

export function render(r) {
  const peers = r.peers;
  const out = [];
  out.push(`Cache Forge benchmark, ${r.meta.date} (node ${r.meta.node}, ${r.meta.nginx}, ${r.meta.cpus} cores, load ${r.meta.loadavg.map((x) => x.toFixed(2)).join(' ')})`);
  out.push('Ratios within this one run matter; absolute numbers are noisy on a shared 2-core machine.\n');

  out.push(`1 KiB warm hits (wrk -c${r.settings.small.connections} -t2 -d${r.settings.small.seconds}s --latency)`);
  out.push(table(['peer', 'req/s', 'x direct', 'p50 ms', 'p99 ms', 'errors', 'cache', 'upstream GETs'],
    Object.entries(r.hits1k).map(([id, x]) => [peers[id], int(x.rps), f(ratio(x.rps, r.hits1k.direct.rps)), f(x.p50), f(x.p99),
      x.non2xx + x.socketErrors, x.cacheStatus ?? '', x.upstreamGets])));
  out.push(`  Cache Forge / bare koa: ${f(ratio(r.hits1k.cacheforge.rps, r.hits1k.koa.rps))}x   Cache Forge / nginx proxy_cache: ${f(ratio(r.hits1k.cacheforge.rps, r.hits1k.nginx.rps))}x\n`);

  out.push(`1 MiB warm hits (wrk -c${r.settings.medium.connections} -t2 -d${r.settings.medium.seconds}s)`);
  out.push(table(['peer', 'req/s = MiB/s', 'x direct', 'p50 ms', 'p99 ms', 'errors', 'cache', 'upstream GETs'],
    Object.entries(r.hits1m).map(([id, x]) => [peers[id], int(x.rps), f(ratio(x.rps, r.hits1m.direct.rps)), f(x.p50), f(x.p99),
      x.non2xx + x.socketErrors, x.cacheStatus ?? '', x.upstreamGets])));
  out.push(`  Cache Forge / nginx proxy_cache: ${f(ratio(r.hits1m.cacheforge.rps, r.hits1m.nginx.rps))}x\n`);

  out.push(`100 MiB warm hits (${r.settings.bigRounds} sequential curl downloads per peer, interleaved; decimal MB/s)`);
  out.push(table(['peer', 'median MB/s', 'min', 'max', 'x direct', 'x nginx cache', 'cache'],
    Object.entries(r.hits100m).map(([id, x]) => [peers[id], int(x.median), int(x.min), int(x.max), f(ratio(x.median, r.hits100m.direct.median)),
      f(ratio(x.median, r.hits100m.nginx.median)), x.cacheStatus ?? ''])));
  out.push('');

  out.push('Cold miss, 100 MiB, one client (upstream throttled to 25 MiB/s, then unthrottled); "direct" = the upstream itself');
  const coldRows = [];
  for (const [mode, set] of Object.entries(r.cold)) {
    for (const [id, x] of Object.entries(set)) {
      coldRows.push([`${peers[id]} (${mode})`, f(x.ttfb, 3), f(x.total), f(ratio(x.total, set.direct.total)), x.hashOk ? 'ok' : 'BAD',
        x.cacheStatus ?? '', x.upstreamGets ?? '', x.next ? `${x.next.cacheStatus} ${f(x.next.total)} s` : '']);
    }
  }
  out.push(table(['peer', 'TTFB s', 'total s', 'x direct', 'sha256', 'cache', 'upstream GETs', 'next request'], coldRows));
  out.push('');

  const c = r.concurrent;
  out.push(`${c.cacheforge.clients} concurrent clients, one uncached 100 MiB file, upstream throttled to 25 MiB/s (${c.cacheforge.hashed} bodies sha256-checked)`);
  out.push(table(['peer', 'upstream GETs', 'complete', 'sha256 ok', 'TTFB min-max s', 'total min-max s', 'statuses', 'next request'],
    Object.entries(c).map(([id, x]) => [peers[id], x.upstreamGets, `${x.complete}/${x.clients}`, `${x.hashOk}/${x.hashed}`,
      `${f(x.ttfbMin, 3)}-${f(x.ttfbMax, 3)}`, `${f(x.totalMin)}-${f(x.totalMax)}`,
      Object.entries(x.statuses).map(([k, v]) => `${k}:${v}`).join(' '), `${x.next.cacheStatus} ${f(x.next.total)} s`])));
  out.push('');

  const rss = r.rss;
  out.push(`Cache Forge RSS (VmRSS every 0.25 s, ${rss.samples} samples): idle ${f(rss.idle, 1)} MiB, peak ${f(rss.peak, 1)} MiB; per phase: ${
    Object.entries(rss.peaks).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}\n`);

  out.push('Goals');
  out.push(table(['goal', 'target', 'measured', 'met'], r.goals.map((g) => [g.goal, g.target, g.text, g.met ? 'yes' : 'NO'])));
  return out.join('\n');
}

/** Writes the results as JSON (only the latest run is kept). */
export function writeJson(file, results) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(4)) : v), 2)}\n`);
}
