import type { AuthFetch, Logger, PluginStore, UpstreamAuth } from '@cacheforge/core';
import { parseChallenges } from './challenge.js';

/** Lifetime assumed when a token response names none (the token spec's default is 60 s). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Tokens are dropped this long before they expire, so none is sent as it runs out. */
const EXPIRY_MARGIN_SECONDS = 10;
/** A registry that asks for Basic auth is remembered for this long. */
const BASIC_MEMORY_MS = 24 * 3600 * 1000;

interface Credentials { readonly username: string; readonly password: string }

/**
 * The Docker registry token flow (distribution's token spec), as an upstream auth hook. The
 * registry answers 401 with `WWW-Authenticate: Bearer realm,service,scope`; we ask the realm for a
 * token (anonymously, or with Basic credentials when the remote has them), retry with it, and keep
 * it per repository scope in the plugin store until shortly before it expires, so every later
 * request of that repository (on any replica sharing the hot cache) carries it from the start.
 * A registry asking for Basic gets the credentials directly. Tokens and credentials are never logged.
 */
export class RegistryTokenAuth implements UpstreamAuth {
  private readonly basic?: string;

  constructor(private readonly store: PluginStore | undefined, credentials: Credentials | undefined, private readonly log: Logger) {
    if (credentials) this.basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }

  async authorize(url: URL): Promise<Record<string, string> | undefined> {
    if (!this.store) return undefined;
    const scope = scopeOf(url);
    const token = await this.store.get<string>(`token:${scope}`).catch(() => undefined);
    if (token) return { authorization: `Bearer ${token}` };
    if (this.basic && await this.store.get<boolean>('basic').catch(() => undefined)) return { authorization: this.basic };
    return undefined;
  }

  async challenge(url: URL, header: string, fetch: AuthFetch): Promise<Record<string, string> | undefined> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (!bearer) {
      if (!this.basic || !challenges.some((c) => c.scheme === 'basic')) return undefined;
      await this.store?.set('basic', true, BASIC_MEMORY_MS).catch(() => undefined);
      return { authorization: this.basic };
    }
    const realm = bearer.params.realm;
    if (!realm) return undefined;
    let tokenUrl: URL;
    try { tokenUrl = new URL(realm); } catch { return undefined; }
    if (bearer.params.service) tokenUrl.searchParams.set('service', bearer.params.service);
    const scope = bearer.params.scope ?? scopeFor(url);
    for (const s of (scope ?? '').split(' ').filter(Boolean)) tokenUrl.searchParams.append('scope', s);
    const response = await fetch(tokenUrl, this.basic ? { authorization: this.basic } : {});
    if (response.status !== 200) {
      this.log.warn({ realm: tokenUrl.origin + tokenUrl.pathname, status: response.status, withCredentials: !!this.basic }, 'registry token service refused');
      return undefined;
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try { parsed = JSON.parse(response.body.toString('utf8')) as typeof parsed; } catch { parsed = {}; }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : undefined;
    if (!token) {
      this.log.warn({ realm: tokenUrl.origin + tokenUrl.pathname }, 'registry token service answered without a token');
      return undefined;
    }
    const seconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_SECONDS;
    const keepMs = Math.max(1, seconds - EXPIRY_MARGIN_SECONDS) * 1000;
    await this.store?.set(`token:${scopeOf(url)}`, token, keepMs).catch((err: unknown) => this.log.warn({ reason: (err as Error).message }, 'could not cache registry token'));
    return { authorization: `Bearer ${token}` };
  }
}

/** The repository a registry URL is about (`/v2/<name>/manifests/…`), or `undefined` for `/v2/`. */
function repositoryOf(url: URL): string | undefined {
  const match = /^\/(?:.*\/)?v2\/(.+)\/(?:manifests|blobs|tags|referrers)\/[^/]+$/.exec(url.pathname);
  return match?.[1];
}

/** The token scope a request needs: pull on its repository. */
function scopeFor(url: URL): string | undefined {
  const repository = repositoryOf(url);
  return repository ? `repository:${repository}:pull` : undefined;
}

/** The store key of a URL's token: its scope, or the registry-wide one. */
function scopeOf(url: URL): string {
  return scopeFor(url) ?? 'registry';
}
