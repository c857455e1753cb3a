// `server.workers`: a second Cache Forge with `workers: auto` beside the single-process one, so
// `pnpm bench` shows both in one run.
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { cacheForgeConfig, startCacheForge } from './cacheforge.mjs';
import { waitFor } from './proc.mjs';

/** Cache Forge with `server.workers: auto`, returned once every worker answers. */
export async function startCacheForgeWorkers({ root, dir, port, upstreamPort }) {
  const base = cacheForgeConfig({ dir, port, upstreamPort });
  const cf = await startCacheForge({ root, dir, port, upstreamPort, config: { ...base, server: { ...base.server, workers: 'auto' } } });
  const workers = availableParallelism();
  const seen = new Set();
  // /-/ready answers as soon as one worker listens; new connections are dealt round robin.
  await waitFor(`${workers} workers`, async () => {
    seen.add((await health(`${cf.url}/-/health`)).worker);
    return seen.size >= workers;
  }, 30_000);
  return { ...cf, workers };
}

function health(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => { try { resolve(JSON.parse(text)); } catch (err) { reject(err); } });
    }).on('error', reject);
  });
}

/**
 * The lines comparing workers 1 and auto, from figures of this run: each case with both
 * settings side by side and each one's ratio to bare koa (single process) and to nginx
 * proxy_cache (`worker_processes auto`).
 */
export function renderWorkers(r, workers) {
  const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : 'n/a');
  const rps = (x) => Math.round(x.rps).toLocaleString('en-US');
  const hits = (label, h) => `  ${label} warm hits, req/s: workers 1 ${rps(h.cacheforge)} (x koa ${ratio(h.cacheforge.rps, h.koa.rps)}, x nginx ${ratio(h.cacheforge.rps, h.nginx.rps)}) | `
    + `auto ${rps(h.cfAuto)} (x koa ${ratio(h.cfAuto.rps, h.koa.rps)}, x nginx ${ratio(h.cfAuto.rps, h.nginx.rps)}) | auto/1 ${ratio(h.cfAuto.rps, h.cacheforge.rps)}x`;
  const cold = r.cold.unthrottled;
  const c1 = cold.cacheforge;
  const cA = cold.cfAuto;
  return [
    `server.workers: 1 vs auto (${workers} workers), same run; bare koa is one process, nginx runs worker_processes auto`,
    hits('1 KiB', r.hits1k),
    hits('1 MiB', r.hits1m),
    `  100 MiB cold miss, unthrottled, s: workers 1 ${c1.total.toFixed(2)} (x nginx ${ratio(c1.total, cold.nginx.total)}) | `
      + `auto ${cA.total.toFixed(2)} (x nginx ${ratio(cA.total, cold.nginx.total)}; hash ${cA.hashOk ? 'ok' : 'BAD'}, upstream GETs ${cA.upstreamGets}) | nginx ${cold.nginx.total.toFixed(2)}`,
  ].join('\n');
}
