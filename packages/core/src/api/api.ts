import type { Context } from 'koa';
import type { ApiRoute } from './route.js';
import type { ApiServices } from './services.js';
import { apiRouter } from './router.js';
import { openApiDocument } from './openapi.js';
import { openApiRoute } from './routes/openapi-route.js';
import { tokenRoutes } from './routes/tokens.js';
import { systemRoutes } from './routes/system.js';
import { remoteRoutes } from './routes/remotes.js';
import { artifactRoutes } from './routes/artifacts.js';
import { statsRoutes } from './routes/stats.js';
import { setupRoutes } from './routes/setup.js';
import { setupText } from './setup.js';

/** The management API: its route table (the router and the OpenAPI document both read it). */
export interface ManagementApi {
  readonly routes: readonly ApiRoute[];
  readonly document: Record<string, unknown>;
  handle(ctx: Context): Promise<void>;
  /** `GET /-/setup`: every remote's client setup as plain text (no token needed; placeholders only). */
  setup(ctx: Context): void;
}

export function managementApi(services: ApiServices): ManagementApi {
  const routes: ApiRoute[] = [];
  let document: Record<string, unknown> | undefined;
  routes.push(
    openApiRoute(() => (document ??= openApiDocument(routes))),
    ...systemRoutes(services),
    ...remoteRoutes(services),
    ...artifactRoutes(services),
    ...statsRoutes(services),
    ...setupRoutes(services),
    ...tokenRoutes(services),
  );
  const handle = apiRouter(routes, services.auth);
  const setup = (ctx: Context) => {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = setupText(services.registry.all(), services.config, ctx);
  };
  return { routes, get document() { return document ??= openApiDocument(routes); }, handle, setup };
}
