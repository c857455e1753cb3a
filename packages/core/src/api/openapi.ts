import { CORE_VERSION } from '../version.js';
import { ERROR_CODES } from '../errors/codes.js';
import { COMPONENTS, ref } from './schemas.js';
import { API_BASE, type ApiRoute } from './route.js';

/** The errors every route may answer besides its own responses. */
const COMMON_ERRORS: Record<number, string> = {
  400: 'The query or body does not match the schema (CF_ERR_API_BAD_REQUEST).',
  401: 'No token, or one that is unknown, expired or revoked (CF_ERR_AUTH_REQUIRED, CF_ERR_AUTH_INVALID).',
  403: 'The token lacks the scope (CF_ERR_AUTH_FORBIDDEN).',
  404: 'No such remote, artifact or token.',
};

/**
 * The OpenAPI 3.1 document of the management API, built from the route table the router uses,
 * so every route is documented and every documented route exists.
 */
export function openApiDocument(routes: readonly ApiRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = paths[API_BASE + route.path] ??= {};
    const parameters = [
      ...Object.entries(route.params ?? {}).map(([name, p]) => ({
        name, in: 'path', required: true, description: p.rest ? `${p.description} (may contain /)` : p.description, schema: p.schema,
        ...(p.rest ? { allowReserved: true } : {}),
      })),
      ...Object.entries(route.query ?? {}).map(([name, p]) => ({ name, in: 'query', required: p.required ?? false, description: p.description, schema: p.schema })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema && route.method !== 'HEAD' ? { content: { [spec.contentType ?? 'application/json']: { schema: spec.schema } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(COMMON_ERRORS)) {
      if (route.scope === 'public' && (status === '401' || status === '403')) continue;
      responses[status] ??= { description, ...(route.method === 'HEAD' ? {} : { content: { 'application/json': { schema: ref('Error') } } }) };
    }
    item[route.method.toLowerCase()] = {
      operationId: route.operationId, summary: route.summary, tags: [route.tag],
      ...(route.scope === 'public' ? { security: [] } : { 'x-cacheforge-scope': route.scope }),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cache Forge management API', version: CORE_VERSION,
      description: 'Remotes, artifacts, purge, statistics, tokens and client setup. Every endpoint but this document needs a token '
        + '(Authorization: Bearer <token>, or Basic with the token as password); x-cacheforge-scope names the scope it needs '
        + `(read < write < admin). Errors are {errors:[{code,message}]} with the codes: ${Object.keys(ERROR_CODES).filter((c) => c.startsWith('CF_ERR_AUTH') || c.startsWith('CF_ERR_API')).join(', ')}.`,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { basic: [] }],
    paths,
    components: {
      schemas: COMPONENTS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic', description: 'any user name, the token as password' } },
    },
  };
}
