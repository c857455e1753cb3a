import type { Counter } from 'prom-client';
import type { ApiRoute, JsonSchema } from '../route.js';
import type { ApiServices } from '../services.js';
import type { MountedRemote } from '../../plugin/remote-registry.js';
import { cfError } from '../../errors/errors.js';
import { redact } from '../../util/redact.js';
import { object, ref } from '../schemas.js';
import { maskedConfig } from '../masked-config.js';

const remoteName = { description: 'the remote\'s name (its first path segment)', schema: { type: 'string' } };

const summary: Record<string, JsonSchema> = {
  name: { type: 'string' }, type: { type: 'string' }, upstream: { type: 'string' }, offline: { type: 'boolean' },
  source: { enum: ['file', 'api'] }, path: { type: 'string' },
};
const detail = object({
  ...summary,
  config: { type: 'object' },
  upstreamStatus: object({
    hosts: { type: 'array', items: object({ host: { type: 'string' }, up: { type: 'boolean' }, failures: { type: 'integer' }, downSince: { type: ['string', 'null'] } }) },
    lastSuccess: { type: ['string', 'null'], format: 'date-time' }, lastFailure: { type: ['string', 'null'], format: 'date-time' },
    lastFailureReason: { type: ['string', 'null'] }, requests: { type: 'integer' }, failures: { type: 'integer' }, errorRate: { type: ['number', 'null'] },
  }),
  counters: object({
    sinceStart: object({ requests: { type: 'object', additionalProperties: { type: 'integer' } }, bytesServed: { type: 'number' }, bytesFetched: { type: 'number' } }),
  }),
});

/** `GET /remotes`, `GET /remotes/{name}`: the remotes, their config (secrets masked), upstream status and counters. */
export function remoteRoutes(s: ApiServices): ApiRoute[] {
  const brief = (r: MountedRemote) => ({
    name: r.config.name, type: r.plugin.name, upstream: redact(r.config.upstream.href), offline: r.config.offline, source: s.runtime.sourceOf(r.config.name), path: `/${r.config.name}/`,
  });
  return [
    {
      method: 'GET', path: '/remotes', operationId: 'listRemotes', tag: 'remotes', scope: 'read',
      summary: 'Every remote', responses: { 200: { description: 'The remotes', schema: object({ remotes: { type: 'array', items: object(summary) } }) } },
      handle: () => ({ status: 200, body: { remotes: s.registry.all().map(brief) } }),
    },
    {
      method: 'GET', path: '/remotes/{name}', operationId: 'getRemote', tag: 'remotes', scope: 'read', params: { name: remoteName },
      summary: 'One remote: config (secrets masked), live upstream status, counters', responses: { 200: { description: 'The remote', schema: detail } },
      async handle({ params }) {
        const r = mounted(s, params.name!);
        const name = r.config.name;
        const activity = s.activity.view(name);
        const hosts = s.upstreams().filter((u) => u.remote === name).map((u) => ({ host: u.host, up: u.up, failures: u.failures, downSince: u.downSince ?? null }));
        const requests: Record<string, number> = {};
        for (const v of (await s.metrics.requests.get()).values) if (v.labels.remote === name) requests[String(v.labels.cache)] = (requests[String(v.labels.cache)] ?? 0) + v.value;
        const sum = async (c: Counter<'remote'>) => (await c.get()).values.filter((v) => v.labels.remote === name).reduce((n, v) => n + v.value, 0);
        return {
          status: 200,
          body: {
            ...brief(r), config: maskedConfig(r), upstreamStatus: { hosts, ...activity },
            counters: { sinceStart: { requests, bytesServed: await sum(s.metrics.bytesServed), bytesFetched: await sum(s.metrics.bytesFetched) } },
          },
        };
      },
    },
    ...runtimeRoutes(s, brief),
  ];
}

/** `PUT`/`DELETE /remotes/{name}`: the remotes added at runtime (the config file's are read-only here). */
function runtimeRoutes(s: ApiServices, brief: (r: MountedRemote) => Record<string, unknown>): ApiRoute[] {
  const conflict = { description: 'The remote comes from the config file, which the API does not change (CF_ERR_API_CONFLICT)', schema: ref('Error') };
  return [
    {
      method: 'PUT', path: '/remotes/{name}', operationId: 'putRemote', tag: 'remotes', scope: 'admin', params: { name: remoteName },
      summary: 'Add or replace a runtime remote: validated like a remote of the config file, kept in the metadata store, applied on every replica',
      body: { type: 'object', description: 'A remote exactly as under `remotes.NAME` in the config file (type, upstream, the plugin\'s options...)' },
      responses: { 200: { description: 'Replaced', schema: object(summary) }, 201: { description: 'Added', schema: object(summary) }, 409: conflict },
      async handle({ params, body }) {
        const created = await s.runtime.put(params.name!, body);
        return { status: created ? 201 : 200, body: brief(mounted(s, params.name!)) };
      },
    },
    {
      method: 'DELETE', path: '/remotes/{name}', operationId: 'deleteRemote', tag: 'remotes', scope: 'admin', params: { name: remoteName },
      summary: 'Remove a runtime remote from every replica (what it cached stays until purged)',
      responses: { 204: { description: 'Removed' }, 409: conflict },
      async handle({ params }) {
        await s.runtime.delete(params.name!);
        return { status: 204 };
      },
    },
  ];
}

/** The mounted remote of that name; 404 CF_ERR_REMOTE_UNKNOWN otherwise. */
export function mounted(s: ApiServices, name: string): MountedRemote {
  const r = s.registry.get(name);
  if (!r) throw cfError('CF_ERR_REMOTE_UNKNOWN', `no remote named ${JSON.stringify(name.slice(0, 64))}; GET /-/api/v1/remotes lists them`);
  return r;
}
