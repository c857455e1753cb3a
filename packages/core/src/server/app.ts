import Koa from 'koa';
import type { RemoteRegistry } from '../plugin/remote-registry.js';
import type { CacheForgeConfig } from '../config/config.js';
import type { Logger } from '../util/logger.js';
import { cfError } from '../errors/errors.js';
import { errorMiddleware } from './error-middleware.js';
import { accessLog } from './access-log.js';
import { capRequestsPerClient } from './client-limit.js';
import { remoteDispatcher } from './dispatch.js';
import { pluginMounts } from './mounts.js';
import { proxyRouter } from './proxy-target.js';
import { ownEndpoints, type OwnEndpointServices } from './own-endpoints.js';
import { CORE_VERSION } from '../version.js';
import type { SelfIdentity } from '../net/self.js';
import type { Management } from '../api/wiring.js';
import { gatedDispatcher } from './auth-gate.js';
import { grantEndpoint } from './grant-endpoint.js';
import { publicBaseFor } from '../net/public-base.js';

/** What the HTTP app needs from the rest of the process. */
export interface AppServices extends OwnEndpointServices {
  readonly config: CacheForgeConfig;
  readonly log: Logger;
  readonly registry: RemoteRegistry;
  /** This instance's id: a request carrying it in `Via` went round in a loop. */
  readonly identity?: SelfIdentity;
  /** The management API and the token checks (absent in embedders that build the app bare). */
  readonly management?: Management;
  /** `/-/internal/fills/`: this replica's fills streamed to the others (with `cluster.secret`). */
  readonly internalFills?: Koa.Middleware;
}

/**
 * The koa app: error middleware outermost, then the access log, then absolute-form (proxy)
 * requests routed by their target, our own endpoints under `/-/` (health, readiness, metrics),
 * the root prefixes formats mount (`/v2/`), and every remote at `/<remote>/`.
 */
export function createApp(services: AppServices): Koa {
  const { config, log, metrics, registry } = services;
  // One trusted proxy: the client is the right-most X-Forwarded-For entry (the one it added); the
  // left-most is whatever the client sent.
  const app = new Koa({ proxy: config.server.trustProxy, maxIpsCount: 1 });
  // Errors are logged by the error middleware; koa's default handler would print them again.
  app.silent = true;
  logBrokenBodies(app, log);

  const management = services.management;
  const auth = management?.auth;
  const bare = remoteDispatcher(registry, config, log, services.isShuttingDown);
  const dispatcher = auth ? gatedDispatcher(bare, auth) : bare;
  // Checked only when reads need a token: an anonymous read costs no extra await.
  const gated = auth !== undefined && !auth.anonymousRead;
  // `<base>/-/` cut to `<base>`: the origin (and path) clients reach this instance at.
  const publicBase = (ctx: Koa.Context) => publicBaseFor(ctx.req, '-', { publicUrl: config.server.publicUrl, trustProxy: config.server.trustProxy, encrypted: ctx.protocol === 'https' }).href.slice(0, -3);
  const mounts = pluginMounts(registry, dispatcher, gated ? { base: publicBase, check: (ctx) => auth!.artifact(ctx, false) } : undefined);
  app.use(errorMiddleware(log));
  app.use(accessLog(log, metrics, config.log.requests));
  if (management) app.use(management.recordStats);
  if (config.server.trustProxy) app.use(capRequestsPerClient(config.server.maxConnectionsPerClient));
  const identity = services.identity;
  if (identity) app.use(loopGuard(identity));
  const ownRoutes = ownEndpoints(services);
  const grantRoute = auth ? grantEndpoint(registry, auth) : undefined;
  const proxied = proxyRouter(registry.all(), { publicUrl: config.server.publicUrl, identity });
  app.use(async (ctx, next) => {
    // An absolute-form target (a client using this instance as its HTTP proxy) routes by its host
    // and path; one naming this instance, and every origin-form one, by the path below.
    const target = proxied(ctx.originalUrl, ctx.req.socket.localPort ?? 0);
    if (target.kind === 'remote') {
      if (gated) await auth!.artifact(ctx, true);
      return dispatcher.to(ctx, target.remote, target.rawPath, target.base);
    }
    // Read once: the context's getters delegate (megamorphic loads), and every hit passes here.
    const path = ctx.request.path;
    if (path === '/-' || path.startsWith('/-/')) {
      if (management && path.startsWith('/-/api/')) return management.api.handle(ctx);
      if (management && path === '/-/setup' && (ctx.method === 'GET' || ctx.method === 'HEAD')) return management.api.setup(ctx);
      if (auth && path === '/-/metrics') await auth.metrics(ctx);
      if (grantRoute && await grantRoute(ctx)) return;
      if (services.internalFills && path.startsWith('/-/internal/fills/')) return services.internalFills(ctx, next);
      return ownRoutes(ctx, next);
    }
    // A format's mount runs the check itself once it knows the remote (its challenge names it).
    // `false` without a promise when no format mounts a prefix: a hit pays no extra await.
    const mounted = mounts(ctx);
    if (mounted !== false && await mounted) return;
    if (gated) await auth!.artifact(ctx, false);
    if (path === '/') {
      ctx.body = { name: 'cacheforge', version: CORE_VERSION, remotes: registry.all().map((r) => ({ name: r.config.name, type: r.plugin.name })) };
      return;
    }
    await dispatcher.byPath(ctx);
  });
  return app;
}

/**
 * What reaches koa's error event failed after the response started: a body stream broke mid-way
 * (the connection is destroyed, so the client sees a truncated download) or the client went away.
 */
function logBrokenBodies(app: Koa, log: Logger): void {
  app.on('error', (err: NodeJS.ErrnoException, ctx?: Koa.Context) => {
    const clientGone = err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'EPIPE';
    log[clientGone ? 'debug' : 'warn']({ remote: ctx?.state.remote, path: ctx?.path, code: err.code, reason: err.message }, 'response body failed mid-stream');
  });
}

/**
 * Answers a request carrying this instance's own `Via` before any remote sees it: a loop would
 * otherwise run until every hop timed out.
 */
function loopGuard(identity: SelfIdentity): Koa.Middleware {
  // Not async, and returns next()'s own promise: an extra await here would delay the access
  // log's look at the finished response by a tick on the hot path.
  return (ctx, next) => {
    if (identity.inVia(ctx.get('via'))) throw cfError('CF_ERR_LOOP_DETECTED', `${ctx.method} ${ctx.path} came back to this Cache Forge (its own Via); a remote's upstream leads to this instance`);
    return next();
  };
}
