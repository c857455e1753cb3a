import type { Context } from 'koa';
import { cfError } from '../errors/errors.js';
import { tokenFromHeader } from '../auth/credentials.js';
import { challengeFor } from '../auth/challenge.js';
import { grants, mayReadRemote, type Principal } from '../auth/scopes.js';
import type { RequestAuth } from '../auth/request-auth.js';
import type { RemoteRegistry } from '../plugin/remote-registry.js';

/** Who asks when reads are anonymous and no credentials came: may read every remote. */
const ANONYMOUS: Principal = { name: 'anonymous', scopes: ['read'] };

/**
 * `GET /-/<format>/token?service=<remote>&scope=…` for formats with `bearerAuth` (a registry's
 * token flow): the caller's Cache Forge token (Basic, any user; none when reads are anonymous)
 * buys a short-lived signed bearer for the scopes its `read` allows on that remote. A scope it may
 * not read is issued with no access, as distribution does, so the later request gets 403.
 * Returns false for paths that are no such endpoint.
 */
export function grantEndpoint(registry: RemoteRegistry, auth: RequestAuth): (ctx: Context) => Promise<boolean> {
  const formats = new Map(registry.all().filter((r) => r.plugin.bearerAuth).map((r) => [r.plugin.name, r.plugin.bearerAuth!]));
  return async function serveGrant(ctx: Context): Promise<boolean> {
    const match = /^\/-\/([a-z][a-z0-9-]*)\/token$/.exec(ctx.path);
    const bearer = match && formats.get(match[1]!);
    if (!bearer || !auth.grants || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return false;
    const principal = await caller(ctx, auth);
    const query = new URLSearchParams(ctx.querystring);
    const remotes = registry.all().filter((r) => r.plugin.name === match![1]).map((r) => r.definition);
    const service = remotes.find((r) => r.name === query.get('service'))?.name;
    const asked: string[] = [];
    const allowed: string[] = [];
    for (const scope of query.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean)) {
      const read = bearer.readScope(scope, remotes);
      const remote = service ?? read?.remote;
      if (!read || remote === undefined) continue;
      asked.push(`${remote} ${read.scope}`);
      if (grants(principal.scopes, 'read') && mayReadRemote(principal, remote)) allowed.push(`${remote} ${read.scope}`);
    }
    const { token, grant } = auth.grants.issue(asked, allowed, Date.now());
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, access_token: token, expires_in: grant.exp - grant.iat, issued_at: new Date(grant.iat * 1000).toISOString() };
    return true;
  };
}

/** The caller's principal: its token (Basic or Bearer), or anonymous when reads allow it. */
async function caller(ctx: Context, auth: RequestAuth): Promise<Principal> {
  const value = tokenFromHeader(ctx.get('authorization') || undefined);
  if (value === undefined && auth.anonymousRead) return ANONYMOUS;
  const found = await auth.authenticator.identify(value);
  if (found.kind === 'principal') return found.principal;
  const headers = { 'www-authenticate': challengeFor('artifact', 'cacheforge') };
  if (found.kind === 'none') throw cfError('CF_ERR_AUTH_REQUIRED', 'the token endpoint needs a Cache Forge token: Basic with the token as password (docker/skopeo login)', { headers });
  throw cfError('CF_ERR_AUTH_INVALID', found.reason, { headers });
}
