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

/** The lines comparing workers 1 and auto, from figures of this run. */
export function renderWorkers(r, workers) {
  const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : 'n/a');
  const one = r.hits1k.cacheforge;
  const auto = r.hits1k.cfAuto;
  const cold1 = r.cold.unthrottled.cacheforge;
  const coldA = r.cold.unthrottled.cfAuto;
  return [
    `server.workers: 1 vs auto (${workers} workers), same run`,
    `  1 KiB warm hits: ${Math.round(one.rps)} vs ${Math.round(auto.rps)} req/s (auto/1 ${ratio(auto.rps, one.rps)}x; auto / nginx proxy_cache ${ratio(auto.rps, r.hits1k.nginx.rps)}x; auto / bare koa ${ratio(auto.rps, r.hits1k.koa.rps)}x)`,
    `  100 MiB cold miss, unthrottled: ${cold1.total.toFixed(2)} vs ${coldA.total.toFixed(2)} s (hash ${coldA.hashOk ? 'ok' : 'BAD'}, upstream GETs ${coldA.upstreamGets})`,
  ].join('\n');
}
