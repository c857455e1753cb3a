import type { ApiRoute } from '../route.js';
import type { ApiServices } from '../services.js';
import { CORE_VERSION } from '../../version.js';
import { object } from '../schemas.js';

const backend = object({ kind: { type: 'string' }, status: { enum: ['ok', 'failing'] }, error: { type: 'string' } }, ['error']);

/** `GET /system`: what this process is and whether its backends answer. */
export function systemRoutes(s: ApiServices): ApiRoute[] {
  return [{
    method: 'GET', path: '/system', operationId: 'getSystem', tag: 'system', scope: 'read',
    summary: 'Version, uptime, backends and their health, loaded plugins',
    responses: {
      200: {
        description: 'This process',
        schema: object({
          version: { type: 'string' }, uptimeSeconds: { type: 'number', minimum: 0 }, startedAt: { type: 'string', format: 'date-time' },
          storage: backend, metadata: backend, cache: backend,
          auth: object({ anonymousRead: { type: 'boolean' }, adminTokensConfigured: { type: 'integer', minimum: 0 }, metricsTokenConfigured: { type: 'boolean' } }),
          plugins: { type: 'array', items: object({ format: { type: 'string' }, package: { type: 'string' } }) },
          remotes: { type: 'integer', minimum: 0 },
        }),
      },
    },
    async handle() {
      const probe = async (kind: string, ping: Promise<void>) => {
        try { await ping; return { kind, status: 'ok' }; } catch (err) { return { kind, status: 'failing', error: (err as Error).message }; }
      };
      const [storage, metadata, cache] = await Promise.all([
        probe(s.storage.name, s.storage.ping()), probe(s.metadata.name, s.metadata.ping()), probe(s.cache.name, s.cache.ping()),
      ]);
      const now = s.clock.now();
      return {
        status: 200,
        body: {
          version: CORE_VERSION, uptimeSeconds: Math.max(0, (now - s.startedAt) / 1000), startedAt: new Date(s.startedAt).toISOString(),
          storage, metadata, cache,
          auth: { anonymousRead: s.config.auth.anonymousRead, adminTokensConfigured: s.config.auth.adminTokens.length, metricsTokenConfigured: s.config.auth.metricsToken !== undefined },
          plugins: [...s.plugins].map(([format, p]) => ({ format, package: p.specifier })),
          remotes: s.registry.all().length,
        },
      };
    },
  }];
}
