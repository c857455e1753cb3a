import cluster from 'node:cluster';
import Router from '@koa/router';
import type Koa from 'koa';
import type { Storage } from '../storage/storage.js';
import type { MetadataStore } from '../metadata/metadata.js';
import type { HotCache } from '../cache/cache.js';
import type { Metrics } from '../metrics/metrics.js';
import type { UpstreamState } from '../upstream/health.js';
import { cfError } from '../errors/errors.js';
import { CORE_VERSION } from '../version.js';

/** What the endpoints under `/-/` report on. */
export interface OwnEndpointServices {
  readonly metrics: Metrics;
  readonly storage: Storage;
  readonly metadata: MetadataStore;
  readonly cache: HotCache;
  readonly isShuttingDown: () => boolean;
  /** The reachability of every upstream host contacted so far. */
  readonly upstreams: () => UpstreamState[];
}

/** This instance's own endpoints under `/-/`: health, readiness and metrics. */
export function ownEndpoints(services: OwnEndpointServices): Koa.Middleware {
  const { metrics } = services;
  const own = new Router({ prefix: '/-' });
  own.get('/health', (ctx) => {
    // Which worker answered (`server.workers`): a keep-alive connection stays on one.
    ctx.body = cluster.isWorker ? { status: 'ok', version: CORE_VERSION, worker: cluster.worker?.id, pid: process.pid } : { status: 'ok', version: CORE_VERSION };
  });
  own.get('/ready', async (ctx) => {
    const checks = await Promise.all([
      check('storage', services.storage.ping()), check('metadata', services.metadata.ping()), check('cache', services.cache.ping()),
    ]);
    // The hot cache is disposable: without it fills lock per process and documents revalidate, so
    // a lost Redis must not take every replica out of its load balancer at once.
    const ready = checks.every((c) => c.ok || c.name === 'cache') && !services.isShuttingDown();
    ctx.status = ready ? 200 : 503;
    // Upstreams are shown, never counted: a replica that serves what it stores is of use while
    // Docker Hub is down, and every replica would otherwise leave the balancer at once.
    const upstreams = services.upstreams();
    ctx.body = {
      status: ready ? 'ready' : 'not ready', shuttingDown: services.isShuttingDown(), checks: Object.fromEntries(checks.map((c) => [c.name, c.ok ? 'ok' : c.error])),
      upstreams, upstreamsDown: upstreams.filter((u) => !u.up).map((u) => `${u.remote} (${u.host})`),
    };
  });
  own.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.exposition();
  });
  own.all('/{*rest}', () => {
    throw cfError('CF_ERR_NOT_FOUND', 'no such endpoint under /-/');
  });

  return own.routes() as unknown as Koa.Middleware;
}

async function check(name: string, probe: Promise<void>): Promise<{ name: string; ok: boolean; error?: string }> {
  try {
    await probe;
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, error: (err as Error).message };
  }
}
