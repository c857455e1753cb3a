import type { ApiRoute, JsonSchema } from '../route.js';
import type { ApiServices } from '../services.js';
import type { ArtifactRecord } from '../../metadata/metadata.js';
import { cfError } from '../../errors/errors.js';
import { isoTime, nullableIsoTime, object } from '../schemas.js';
import { mounted } from './remotes.js';
import { DEFAULT_MUTABLE_TTL } from '../../policy/policy.js';

const name = { description: 'the remote\'s name', schema: { type: 'string' } };
const path = { description: 'the artifact\'s key below the remote', schema: { type: 'string' }, rest: true };
const MAX_PAGE = 1000;

const child = object({
  name: { type: 'string' }, kind: { enum: ['folder', 'artifact'] }, count: { type: 'integer', minimum: 0 },
  size: { type: 'integer', minimum: 0 }, lastAccess: nullableIsoTime,
});
const variant = object({
  variant: { type: 'string' }, size: { type: 'integer', minimum: 0 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  digests: { type: 'object', additionalProperties: { type: 'string' } },
  contentType: { type: ['string', 'null'] }, upstreamEtag: { type: ['string', 'null'] }, upstreamLastModified: { type: ['string', 'null'] },
  class: { enum: ['immutable', 'mutable'] }, fetchedAt: isoTime, lastCheckedAt: isoTime, freshUntil: nullableIsoTime,
  hits: { type: 'integer', minimum: 0 }, lastAccess: nullableIsoTime,
});
const record = object({ remote: { type: 'string' }, path: { type: 'string' }, variants: { type: 'array', minItems: 1, items: variant } });
const purged = object({ artifacts: { type: 'integer', minimum: 0 }, blobs: { type: 'integer', minimum: 0 }, bytesFreed: { type: 'integer', minimum: 0 } });

/** Opaque cursors: the name of the last child of a page. */
const encodeCursor = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
function decodeCursor(c: string | undefined): string | undefined {
  if (c === undefined) return undefined;
  const s = Buffer.from(c, 'base64url').toString('utf8');
  if (!s || encodeCursor(s) !== c) throw cfError('CF_ERR_API_BAD_REQUEST', 'invalid query: query.cursor is not a cursor this API gave out');
  return s;
}

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);

/** `/remotes/{name}/artifacts…` and `/flush`: browse what is stored, look one artifact up, purge. */
export function artifactRoutes(s: ApiServices): ApiRoute[] {
  return [listRoute(s), recordRoute(s), existsRoute(s), purgeOneRoute(s), purgePrefixRoute(s), flushRoute(s)];
}

/** One artifact's variants as the API shows them. */
function artifactView(s: ApiServices, remote: string, rows: ArtifactRecord[]) {
  const r = s.registry.get(remote);
  return {
    remote, path: rows[0]!.key,
    variants: rows.map((a) => {
      // A mutable copy is fresh for the remote's TTL after its last check; an immutable one for ever.
      const ttl = a.class === 'mutable' ? r?.config.ttl.mutable ?? r?.plugin.classes?.ttl?.mutable ?? DEFAULT_MUTABLE_TTL : undefined;
      const digests = Object.fromEntries(Object.entries(a.headers).filter(([k]) => k === 'digest' || k.startsWith('x-checksum') || k === 'docker-content-digest'));
      return {
        variant: a.variant, size: a.size, sha256: a.digest, digests, contentType: a.contentType ?? null,
        upstreamEtag: a.upstreamEtag ?? null, upstreamLastModified: a.upstreamLastModified ?? null, class: a.class,
        fetchedAt: new Date(a.fetchedAt).toISOString(), lastCheckedAt: new Date(a.checkedAt).toISOString(),
        freshUntil: a.class === 'mutable' && typeof ttl === 'number' ? new Date(a.checkedAt + ttl).toISOString() : null,
        hits: a.hits, lastAccess: iso(a.lastAccess),
      };
    }),
  };
}

/** Every variant stored at `key`; 404 CF_ERR_NOT_FOUND when there is none. */
async function findVariants(s: ApiServices, remote: string, key: string): Promise<ArtifactRecord[]> {
  const rows = await s.management.catalogue.variants(remote, key);
  if (rows.length === 0) throw cfError('CF_ERR_NOT_FOUND', `remote ${remote} holds nothing at ${JSON.stringify(key)}`, { remote, path: key });
  return rows;
}

/** The children of a prefix, or a search below it. */
function listRoute(s: ApiServices): ApiRoute {
  return {
    method: 'GET', path: '/remotes/{name}/artifacts', operationId: 'listArtifacts', tag: 'artifacts', scope: 'read', params: { name },
    summary: 'The children of a prefix, like a folder (or, with q, the artifacts whose path contains q)',
    query: {
      prefix: { description: 'a folder: empty, or ending in /', schema: { type: 'string', pattern: '^$|/$' } },
      q: { description: 'list the artifacts below prefix whose path contains this', schema: { type: 'string', minLength: 1 } },
      limit: { description: `at most this many (default 100, at most ${MAX_PAGE})`, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE } },
      cursor: { description: 'the nextCursor of the previous page', schema: { type: 'string' } },
    },
    responses: {
      200: {
        description: 'One page',
        schema: object({
          remote: { type: 'string' }, prefix: { type: 'string' }, children: { type: 'array', items: child },
          artifacts: { type: 'array', items: object({ path: { type: 'string' }, variant: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' }, lastAccess: nullableIsoTime }) },
          nextCursor: { type: ['string', 'null'] },
        }, ['children', 'artifacts']),
      },
    },
    async handle({ params, query }) {
      const remote = mounted(s, params.name!).config.name;
      const prefix = query.prefix ?? '';
      const limit = Number(query.limit ?? 100);
      const after = decodeCursor(query.cursor);
      const catalogue = s.management.catalogue;
      if (query.q !== undefined) {
        const rows = await catalogue.search(remote, prefix, query.q, { limit: limit + 1, after });
        const page = rows.slice(0, limit);
        return {
          status: 200,
          body: {
            remote, prefix, nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.key) : null,
            artifacts: page.map((a) => ({ path: a.key, variant: a.variant, size: a.size, sha256: a.digest, lastAccess: iso(a.lastAccess) })),
          },
        };
      }
      const children = await catalogue.children(remote, prefix, { limit: limit + 1, after });
      const page = children.slice(0, limit);
      return {
        status: 200,
        body: {
          remote, prefix, nextCursor: children.length > limit ? encodeCursor(page.at(-1)!.name) : null,
          children: page.map((c) => ({ ...c, lastAccess: iso(c.lastAccess) })),
        },
      };
    },
  };
}

/** One artifact's record. */
function recordRoute(s: ApiServices): ApiRoute {
  return {
    method: 'GET', path: '/remotes/{name}/artifacts/{path}', operationId: 'getArtifact', tag: 'artifacts', scope: 'read', params: { name, path },
    summary: 'One artifact\'s record: size, digests, upstream validators, class, times, hits, variants',
    responses: { 200: { description: 'The record', schema: record } },
    async handle({ params }) {
      const remote = mounted(s, params.name!).config.name;
      return { status: 200, body: artifactView(s, remote, await findVariants(s, remote, params.path!)) };
    },
  };
}

/** Whether one artifact is held. */
function existsRoute(s: ApiServices): ApiRoute {
  return {
    method: 'HEAD', path: '/remotes/{name}/artifacts/{path}', operationId: 'artifactExists', tag: 'artifacts', scope: 'read', params: { name, path },
    summary: 'Whether the remote holds the artifact (200, else 404)', responses: { 200: { description: 'Held' } },
    async handle({ params }) {
      const remote = mounted(s, params.name!).config.name;
      const rows = await findVariants(s, remote, params.path!);
      return { status: 200, headers: { 'content-length': '0', 'x-artifact-size': String(rows[0]!.size) } };
    },
  };
}

/** Purge one artifact. */
function purgeOneRoute(s: ApiServices): ApiRoute {
  return {
    method: 'DELETE', path: '/remotes/{name}/artifacts/{path}', operationId: 'purgeArtifact', tag: 'artifacts', scope: 'write', params: { name, path },
    summary: 'Purge one artifact (every variant): rows, hot state, and blobs nothing else references',
    responses: { 200: { description: 'Purged', schema: purged } },
    async handle({ params }) {
      const remote = mounted(s, params.name!).config.name;
      const result = await s.purger.purge({ remote, key: params.path! });
      if (result.artifacts === 0) throw cfError('CF_ERR_NOT_FOUND', `remote ${remote} holds nothing at ${JSON.stringify(params.path)}`, { remote });
      return { status: 200, body: result };
    },
  };
}

/** Purge everything below a prefix. */
function purgePrefixRoute(s: ApiServices): ApiRoute {
  return {
    method: 'DELETE', path: '/remotes/{name}/artifacts', operationId: 'purgePrefix', tag: 'artifacts', scope: 'write', params: { name },
    summary: 'Purge every artifact below a prefix (one package with all its documents and files)',
    query: { prefix: { description: 'what to purge below (non-empty; /-/api/v1/flush empties a remote)', schema: { type: 'string', minLength: 1 }, required: true } },
    responses: { 200: { description: 'Purged', schema: purged } },
    async handle({ params, query }) {
      const remote = mounted(s, params.name!).config.name;
      return { status: 200, body: await s.purger.purge({ remote, prefix: query.prefix! }) };
    },
  };
}

/** Empty one remote, or the whole cache. */
function flushRoute(s: ApiServices): ApiRoute {
  return {
    method: 'POST', path: '/flush', operationId: 'flush', tag: 'artifacts', scope: 'write',
    summary: 'Empty one remote, or the whole cache', body: { type: 'object', additionalProperties: false, properties: { remote: { type: 'string' } } } as JsonSchema,
    responses: { 200: { description: 'Flushed', schema: purged } },
    async handle({ body }) {
      const remote = (body as { remote?: string }).remote;
      if (remote !== undefined) mounted(s, remote);
      return { status: 200, body: await s.purger.purge({ remote }) };
    },
  };
}

