import type { ApiRoute, JsonSchema } from '../route.js';
import type { ApiServices } from '../services.js';
import type { TokenRecord } from '../../metadata/management.js';
import { SCOPES } from '../../auth/scopes.js';
import { newTokenId, newTokenValue, tokenHash } from '../../auth/token-secret.js';
import { parseDuration } from '../../util/units.js';
import { cfError } from '../../errors/errors.js';
import { isoTime, nullableIsoTime, object } from '../schemas.js';

const tokenProps: Record<string, JsonSchema> = {
  id: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array', items: { enum: [...SCOPES] } },
  remotes: { type: ['array', 'null'], items: { type: 'string' } },
  createdAt: isoTime, expiresAt: nullableIsoTime, lastUsedAt: nullableIsoTime, revokedAt: nullableIsoTime,
  state: { enum: ['active', 'expired', 'revoked'] },
};
const tokenView = object(tokenProps);
const createdView = object({ ...tokenProps, token: { type: 'string', pattern: '^cf_' } });

const createBody: JsonSchema = {
  type: 'object', additionalProperties: false, required: ['name', 'scopes'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'unique; letters, digits, . _ -' },
    scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SCOPES] } },
    remotes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' }, description: 'the remotes it may read; default all' },
    expiresIn: { type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+$', description: 'e.g. 30d, 12h; default never' },
  },
};

function view(t: TokenRecord, now: number) {
  const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: t.id, name: t.name, scopes: t.scopes, remotes: t.remotes ?? null, createdAt: new Date(t.createdAt).toISOString(),
    expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt),
    state: t.revokedAt !== undefined ? 'revoked' : t.expiresAt !== undefined && t.expiresAt <= now ? 'expired' : 'active',
  };
}

/** `/tokens`: create (the value shown once), list (never the value), revoke. */
export function tokenRoutes(s: ApiServices): ApiRoute[] {
  const tokens = s.management.tokens;
  return [
    {
      method: 'POST', path: '/tokens', operationId: 'createToken', tag: 'tokens', scope: 'admin',
      summary: 'Create a token; its value is in this answer only', body: createBody,
      responses: {
        201: { description: 'Created', schema: createdView },
        409: { description: 'A token of that name exists (CF_ERR_API_CONFLICT)', schema: { $ref: '#/components/schemas/Error' } },
      },
      async handle({ body }) {
        const b = body as { name: string; scopes: (typeof SCOPES)[number][]; remotes?: string[]; expiresIn?: string };
        const unknown = (b.remotes ?? []).filter((r) => !s.registry.get(r));
        if (unknown.length) throw cfError('CF_ERR_API_BAD_REQUEST', `invalid body: body.remotes names no remote: ${unknown.join(', ')} (remotes are ${s.registry.all().map((r) => r.config.name).join(', ')})`);
        const ttl = b.expiresIn === undefined ? undefined : parseDuration(b.expiresIn);
        if (ttl === 0) throw cfError('CF_ERR_API_BAD_REQUEST', 'invalid body: body.expiresIn must be longer than 0');
        const now = s.clock.now();
        const value = newTokenValue();
        const record = { id: newTokenId(), name: b.name, hash: tokenHash(value), scopes: b.scopes, remotes: b.remotes, createdAt: now, expiresAt: ttl === undefined ? undefined : now + ttl };
        await tokens.create(record);
        s.log.info({ token: record.name, id: record.id, scopes: record.scopes }, 'token created');
        return { status: 201, body: { ...view(record, now), token: value } };
      },
    },
    {
      method: 'GET', path: '/tokens', operationId: 'listTokens', tag: 'tokens', scope: 'admin',
      summary: 'Every token made through the API, without its value',
      responses: { 200: { description: 'The tokens', schema: object({ tokens: { type: 'array', items: tokenView } }) } },
      async handle() {
        await s.auth.authenticator.flush();
        const now = s.clock.now();
        return { status: 200, body: { tokens: (await tokens.list()).map((t) => view(t, now)) } };
      },
    },
    {
      method: 'DELETE', path: '/tokens/{id}', operationId: 'revokeToken', tag: 'tokens', scope: 'admin',
      summary: 'Revoke a token (at once on this replica, within 2 s on the others)',
      params: { id: { description: 'the token\'s id (from the list)', schema: { type: 'string' } } },
      responses: { 204: { description: 'Revoked' } },
      async handle({ params }) {
        if (!await tokens.revoke(params.id!, s.clock.now())) throw cfError('CF_ERR_NOT_FOUND', `no live token with id ${JSON.stringify(params.id)}`);
        s.auth.authenticator.forget();
        s.log.info({ id: params.id }, 'token revoked');
        return { status: 204 };
      },
    },
  ];
}
