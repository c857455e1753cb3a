import type { ApiRoute } from '../route.js';

/** `GET /openapi.json`: the document, built from the routes handed in (this one among them). */
export function openApiRoute(document: () => Record<string, unknown>): ApiRoute {
  return {
    method: 'GET', path: '/openapi.json', operationId: 'getOpenApi', tag: 'meta', scope: 'public',
    summary: 'This API\'s OpenAPI 3.1 document (no token needed)',
    responses: { 200: { description: 'The document', schema: { type: 'object', required: ['openapi', 'paths'], properties: { openapi: { const: '3.1.0' }, paths: { type: 'object' } } } } },
    handle: () => ({ status: 200, body: document() }),
  };
}
