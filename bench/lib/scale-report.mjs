// The printed table of the scale-out benchmark (bench/scale-out.mjs).
import { table } from './report.mjs';

const f = (x, digits = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-');
const int = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : NaN);

export function renderScaleOut(r) {
  const peers = r.peers;
  const out = [];
  out.push(`Cache Forge scale-out benchmark, ${r.meta.date} (node ${r.meta.node}, ${r.meta.nginx}, ${r.meta.cpus} cores, load ${r.meta.loadavg.map((x) => x.toFixed(2)).join(' ')}; S3: ${r.s3})`);
  out.push('Ratios within this one run matter; absolute numbers are noisy on a shared 2-core machine.\n');
  for (const [title, set] of [
    [`1 KiB warm hits (wrk -c${r.settings.small.connections} -t2 -d${r.settings.small.seconds}s; small bodies are served from memory on every peer)`, r.hits1k],
    [`1 MiB warm hits (wrk -c${r.settings.medium.connections} -t2 -d${r.settings.medium.seconds}s; req/s = MiB/s)`, r.hits1m],
  ]) {
    out.push(title);
    out.push(table(['peer', 'req/s', 'x nginx', 'x embedded', 'p50 ms', 'p99 ms', 'errors', 'cache', 'upstream GETs'],
      Object.entries(set).map(([id, x]) => [peers[id], int(x.rps), f(ratio(x.rps, set.nginx.rps)), f(ratio(x.rps, set.embedded.rps)),
        f(x.p50), f(x.p99), x.non2xx + x.socketErrors, x.cacheStatus ?? '', x.upstreamGets])));
    out.push('');
  }
  if (r.hits1m.s3) out.push(`  scale-out / S3 itself: ${f(ratio(r.hits1m.scaleout.rps, r.hits1m.s3.rps))}x (hits larger than hot.maxObjectBytes are read from S3)\n`);
  out.push(`${r.bigMiB} MiB warm hits (${r.settings.bigRounds} sequential curl downloads per peer, interleaved; decimal MB/s)`);
  out.push(table(['peer', 'median MB/s', 'min', 'max', 'x nginx', 'x embedded', 'cache'],
    Object.entries(r.hitsBig).map(([id, x]) => [peers[id], int(x.median), int(x.min), int(x.max), f(ratio(x.median, r.hitsBig.nginx.median)),
      f(ratio(x.median, r.hitsBig.embedded.median)), x.cacheStatus ?? ''])));
  if (r.hitsBig.s3) out.push(`  scale-out / S3 itself: ${f(ratio(r.hitsBig.scaleout.median, r.hitsBig.s3.median))}x`);
  out.push('');
  out.push(`Cold miss, ${r.bigMiB} MiB, one client, upstream unthrottled`);
  out.push(table(['peer', 'TTFB s', 'total s', 'x nginx', 'x embedded', 'sha256', 'cache', 'upstream GETs', 'next request'],
    Object.entries(r.cold).map(([id, x]) => [peers[id], f(x.ttfb, 3), f(x.total), f(ratio(x.total, r.cold.nginx.total)), f(ratio(x.total, r.cold.embedded.total)),
      x.hashOk ? 'ok' : 'BAD', x.cacheStatus ?? '', x.upstreamGets ?? '', x.next ? `${x.next.cacheStatus} ${f(x.next.total)} s` : ''])));
  out.push('');
  const c = r.concurrent;
  out.push(`${c.clients} concurrent misses of one ${r.bigMiB} MiB file, alternately on replica A and B, upstream throttled to 25 MiB/s (${c.hashed} bodies sha256-checked)`);
  out.push(table(['upstream GETs', 'complete', 'sha256 ok', 'TTFB min-median-max s', 'total min-max s', 'statuses', 'next request'],
    [[c.upstreamGets, `${c.complete}/${c.clients}`, `${c.hashOk}/${c.hashed}`, `${f(c.ttfbMin, 3)}-${f(c.ttfbMedian, 3)}-${f(c.ttfbMax, 3)}`,
      `${f(c.totalMin)}-${f(c.totalMax)}`, Object.entries(c.statuses).map(([k, v]) => `${k}:${v}`).join(' '), `${c.next.cacheStatus} ${f(c.next.total)} s`]]));
  out.push(`  TTFB over all ${c.clients} clients: median ${f(c.ttfbMedian, 3)} s, p90 ${f(c.ttfbP90, 3)} s, max ${f(c.ttfbMax, 3)} s`);
  for (const [g, d] of (c.ttfbByGroup ?? []).entries()) {
    out.push(`  TTFB of the clients on replica ${'AB'[g] ?? g}: median ${f(d.median, 3)} s, p90 ${f(d.p90, 3)} s, max ${f(d.max, 3)} s`);
  }
  out.push('');
  const x = r.crossReplica;
  out.push(`Fetched through replica A (${x.a}), then through replica B (${x.b}); upstream GETs: ${x.upstreamGets}`);
  return out.join('\n');
}
