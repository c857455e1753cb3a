import type { Context } from 'koa';
import type { AuthConfig } from '../config/auth-schema.js';
import { cfError } from '../errors/errors.js';
import { tokenHash, sameHash } from './token-secret.js';
import { tokenFromHeader } from './credentials.js';
import { challengeFor } from './challenge.js';
import { grants, mayReadRemote, type Principal, type Scope } from './scopes.js';
import type { Authenticator } from './authenticator.js';
import { GRANT_PREFIX, type GrantSigner } from './bearer-grant.js';

/** What a mount noted of a request for the Bearer flow: its remote and the scope it needs. */
interface NeededScope { readonly remote?: string; readonly scope?: string }

/** The `ctx.state` key holding the request's principal once it is known. */
export const PRINCIPAL = 'principal';

/**
 * Every check a request passes before it is answered: the API's scopes, artifact reads when
 * `auth.anonymousRead` is false (401 with the client's challenge, 407 for proxy requests),
 * remote-limited tokens (403), and `/-/metrics` when `auth.metricsToken` is set. No token value
 * is ever put in a message.
 */
export class RequestAuth {
  private readonly metricsHash?: string;

  constructor(private readonly auth: AuthConfig, readonly authenticator: Authenticator, readonly grants?: GrantSigner) {
    this.metricsHash = auth.metricsToken === undefined ? undefined : tokenHash(auth.metricsToken);
  }

  get anonymousRead(): boolean { return this.auth.anonymousRead; }

  /** The principal of an API request holding `scope`; else 401 (none or bad) or 403 (scope). */
  async require(ctx: Context, scope: Scope): Promise<Principal> {
    const principal = await this.identify(ctx, 'api');
    if (!grants(principal.scopes, scope)) {
      throw cfError('CF_ERR_AUTH_FORBIDDEN', `token ${JSON.stringify(principal.name)} lacks the ${scope} scope this needs (it has ${principal.scopes.join(', ') || 'none'})`);
    }
    return principal;
  }

  /** An artifact request: anonymous when allowed, else a token with `read`. */
  async artifact(ctx: Context, viaProxy: boolean): Promise<void> {
    if (this.auth.anonymousRead) return;
    const bearer = /^bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (!viaProxy && this.grants && bearer?.startsWith(GRANT_PREFIX)) return this.granted(ctx, bearer);
    await this.identify(ctx, viaProxy ? 'proxy' : 'artifact');
  }

  /** A bearer from a format's token endpoint: valid, for this remote and the scope the mount noted. */
  private granted(ctx: Context, bearer: string): void {
    const grant = this.grants!.check(bearer, Date.now());
    const headers = { 'www-authenticate': challengeFor('artifact', this.auth.realm) };
    if ('refused' in grant) throw cfError('CF_ERR_AUTH_INVALID', grant.refused, { headers });
    const need = ctx.state.authScope as NeededScope | undefined;
    if (need?.scope === undefined) return;
    const wanted = `${need.remote} ${need.scope}`;
    if (grant.allowed.includes(wanted)) return;
    if (grant.asked.includes(wanted)) {
      throw cfError('CF_ERR_AUTH_FORBIDDEN', `the token behind this bearer may not read ${need.scope} on remote ${JSON.stringify(need.remote)}`, { remote: need.remote });
    }
    throw cfError('CF_ERR_AUTH_INVALID', `the bearer does not cover ${need.scope} on remote ${JSON.stringify(need.remote)}; ask the token endpoint for it`, { headers });
  }

  /** A request routed to `remote`: a token limited to other remotes is refused. */
  remote(ctx: Context, remote: string): void {
    const principal = ctx.state[PRINCIPAL] as Principal | undefined;
    if (principal && !mayReadRemote(principal, remote)) {
      throw cfError('CF_ERR_AUTH_FORBIDDEN', `token ${JSON.stringify(principal.name)} may read only ${principal.remotes!.join(', ')}, not remote ${JSON.stringify(remote)}`, { remote });
    }
  }

  /** `/-/metrics`: open unless `auth.metricsToken` is set; then that token, or an admin one. */
  async metrics(ctx: Context): Promise<void> {
    if (this.metricsHash === undefined) return;
    const value = tokenFromHeader(ctx.get('authorization') || undefined);
    if (value !== undefined && sameHash(tokenHash(value), this.metricsHash)) return;
    await this.require(ctx, 'admin');
  }

  private async identify(ctx: Context, kind: 'api' | 'artifact' | 'proxy'): Promise<Principal> {
    const known = ctx.state[PRINCIPAL] as Principal | undefined;
    if (known) return known;
    const header = kind === 'proxy' ? ctx.get('proxy-authorization') : ctx.get('authorization');
    const found = await this.authenticator.identify(tokenFromHeader(header || undefined));
    if (found.kind === 'principal') {
      ctx.state[PRINCIPAL] = found.principal;
      return found.principal;
    }
    const challenge = challengeFor(kind, this.auth.realm);
    if (kind === 'proxy') {
      const why = found.kind === 'none' ? 'this proxy needs a token' : `the token in Proxy-Authorization is refused: ${found.reason}`;
      throw cfError('CF_ERR_PROXY_AUTH_REQUIRED', `${why}; put it in the proxy URL (http://any:<token>@host:port/)`, { headers: { 'proxy-authenticate': challenge } });
    }
    const headers = { 'www-authenticate': challenge };
    if (found.kind === 'none') {
      const what = kind === 'api' ? 'the management API needs a token' : 'reading artifacts needs a token here (auth.anonymousRead is false)';
      throw cfError('CF_ERR_AUTH_REQUIRED', `${what}: send Authorization: Bearer <token>, or Basic with the token as password`, { headers });
    }
    throw cfError('CF_ERR_AUTH_INVALID', found.reason, { headers });
  }
}
