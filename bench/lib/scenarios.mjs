// The measurements. Each takes the peers ({ label, base, statusHeader? }), the fixtures and the
// upstream's access log / throttle, and returns plain data for the report.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { curl, wrk, sha256File, median, min, max } from './measure.mjs';

/** A peer's URL of `name`: under its base, or its fixed `url` (a baseline that serves one object). */
const urlOf = (peer, name) => peer.url ?? peer.base + name;

const cacheStatus = (peer, result) => (peer.statusHeader ? result.headers[peer.statusHeader] ?? '-' : undefined);

/** Loads `name` into a caching peer: first GET (expect MISS, bytes checked), second GET (expect HIT). */
export async function prime(peer, file, name, scratch) {
  const out = path.join(scratch, `prime-${name}`);
  const first = await curl(peer.base + name, { out, maxTime: 120 });
  const hashOk = first.code === 200 && (await sha256File(out)) === file.sha256;
  rmSync(out, { force: true });
  const second = await curl(peer.base + name, { maxTime: 60 });
  const result = { first: cacheStatus(peer, first), second: cacheStatus(peer, second), hashOk, code: [first.code, second.code] };
  if (!hashOk || second.code !== 200 || (peer.statusHeader && result.second !== 'HIT')) {
    throw new Error(`priming ${name} on ${peer.label} failed: ${JSON.stringify(result)}`);
  }
  return result;
}

/** wrk on one small file per peer, one peer after the other, with a pause between runs. */
export async function smallHits(peers, name, { connections, seconds, log }) {
  const out = {};
  for (const [id, peer] of Object.entries(peers)) {
    const check = await curl(urlOf(peer, name), { maxTime: 10 });
    if (check.code !== 200) throw new Error(`${peer.label}: GET ${name} gave ${check.code}`);
    const mark = log.mark();
    const r = await wrk(urlOf(peer, name), { connections, threads: 2, seconds });
    out[id] = { ...r, cacheStatus: cacheStatus(peer, check), upstreamGets: log.allGetsSince(mark) };
    await sleep(1000);
  }
  return out;
}

/** `rounds` sequential downloads per peer, interleaved round-robin, so drift hits every peer alike. */
export async function bigHits(peers, name, { rounds, log }) {
  const speeds = Object.fromEntries(Object.keys(peers).map((id) => [id, []]));
  const statuses = Object.fromEntries(Object.keys(peers).map((id) => [id, new Set()]));
  const mark = log.mark();
  for (let i = 0; i < rounds; i++) {
    for (const [id, peer] of Object.entries(peers)) {
      const r = await curl(urlOf(peer, name), { maxTime: 60 });
      if (r.code !== 200) throw new Error(`${peer.label}: GET ${name} gave ${r.code}`);
      speeds[id].push(r.speed / 1e6);
      const status = cacheStatus(peer, r);
      if (status) statuses[id].add(status);
    }
  }
  const upstreamGets = log.allGetsSince(mark);
  return Object.fromEntries(Object.entries(speeds).map(([id, mbps]) => [id, {
    mbps, median: median(mbps), min: min(mbps), max: max(mbps), cacheStatus: [...statuses[id]].join(',') || undefined, upstreamGets,
  }]));
}

/**
 * One cold download of `name` through `peer` (body to scratch, sha256 checked), then a second
 * request that must be a hit. Upstream GETs of the path are counted from the access log.
 */
export async function coldMiss(peer, file, name, { scratch, log, upstreamPath }) {
  const out = path.join(scratch, `cold-${name}`);
  const mark = log.mark();
  const r = await curl(peer.base + name, { out, maxTime: 120 });
  const hashOk = r.code === 200 && (await sha256File(out)) === file.sha256;
  rmSync(out, { force: true });
  const result = { ttfb: r.ttfb, total: r.total, code: r.code, size: r.size, hashOk, cacheStatus: cacheStatus(peer, r) };
  if (peer.statusHeader) {
    const again = await curl(peer.base + name, { maxTime: 60 });
    result.next = { total: again.total, cacheStatus: cacheStatus(peer, again) };
    result.upstreamGets = log.getsSince(mark, upstreamPath + name);
  }
  return result;
}

/**
 * `clients` concurrent curl downloads of one uncached file. The first `hashed` clients save the
 * body and are sha256-checked afterwards (hashing all of them would be CPU bound on 2 cores).
 * `urlFor(i)` spreads the clients over several servers (replicas); default: all on `peer`.
 */
export async function concurrentMisses(peer, file, name, { clients, hashed, scratch, log, upstreamPath, urlFor = () => peer.base + name, groups = 1 }) {
  const mark = log.mark();
  const outs = Array.from({ length: clients }, (_, i) => (i < hashed ? path.join(scratch, `conc-${i}-${name}`) : '/dev/null'));
  const started = Date.now();
  const results = await Promise.all(outs.map((out, i) => curl(urlFor(i), { out, maxTime: 180 })));
  const wallSeconds = (Date.now() - started) / 1000;
  let hashOk = 0;
  for (const out of outs.slice(0, hashed)) {
    if ((await sha256File(out).catch(() => '')) === file.sha256) hashOk++;
    rmSync(out, { force: true });
  }
  const complete = results.filter((r) => r.code === 200 && r.size === file.size).length;
  const statuses = {};
  for (const r of results) { const s = cacheStatus(peer, r) ?? '-'; statuses[s] = (statuses[s] ?? 0) + 1; }
  const ttfb = results.map((r) => r.ttfb);
  const total = results.map((r) => r.total);
  const after = await curl(peer.base + name, { maxTime: 60 });
  return {
    clients, complete, hashed, hashOk, statuses, wallSeconds,
    upstreamGets: log.getsSince(mark, upstreamPath + name),
    ttfbMin: min(ttfb), ttfbMedian: median(ttfb), ttfbP90: percentile(ttfb, 0.9), ttfbMax: max(ttfb),
    // Per replica when the clients alternate (`groups`): the second replica's clients are the cross-replica ones.
    ttfbByGroup: groups > 1 ? Array.from({ length: groups }, (_, g) => distribution(ttfb.filter((_, i) => i % groups === g))) : undefined,
    totalMin: min(total), totalMedian: median(total), totalMax: max(total),
    errors: results.filter((r) => r.error).map((r) => r.error).slice(0, 3),
    next: { total: after.total, cacheStatus: cacheStatus(peer, after) },
  };
}

/** The value at quantile `q` (nearest rank) of `values`. */
function percentile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function distribution(values) {
  return { median: median(values), p90: percentile(values, 0.9), max: max(values) };
}
