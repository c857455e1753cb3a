import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of a bearer issued by a format's token endpoint (never a stored token: see TOKEN_PREFIX). */
export const GRANT_PREFIX = 'cfg_';

/** How long an issued bearer is accepted: short, because it cannot be revoked. */
export const GRANT_TTL_S = 300;

/** What a bearer grants: each scope asked for and which were allowed, as `<remote> <scope>`. */
export interface Grant {
  readonly asked: readonly string[];
  readonly allowed: readonly string[];
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
}

/**
 * Signs and checks the short-lived bearers a format's token endpoint issues (a registry's token
 * flow). HMAC-SHA256 with `cluster.secret` when set, so every replica accepts every replica's
 * bearers; without it a per-process key (one instance only). Scope strings are the format's own.
 */
export class GrantSigner {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(`cacheforge-grant:${secret}`);
  }

  issue(asked: readonly string[], allowed: readonly string[], nowMs: number): { token: string; grant: Grant } {
    const iat = Math.floor(nowMs / 1000);
    const grant: Grant = { asked, allowed, iat, exp: iat + GRANT_TTL_S };
    const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
    return { token: `${GRANT_PREFIX}${payload}.${this.mac(payload)}`, grant };
  }

  /** The grant a bearer carries, or why it is refused. */
  check(token: string, nowMs: number): Grant | { refused: string } {
    const dot = token.lastIndexOf('.');
    if (!token.startsWith(GRANT_PREFIX) || dot < 0) return { refused: 'the bearer is not one this Cache Forge issued' };
    const payload = token.slice(GRANT_PREFIX.length, dot);
    const mac = Buffer.from(token.slice(dot + 1));
    const want = Buffer.from(this.mac(payload));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return { refused: 'the bearer signature does not match' };
    let grant: Grant;
    try {
      grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Grant;
    } catch {
      return { refused: 'the bearer is malformed' };
    }
    if (typeof grant.exp !== 'number' || grant.exp * 1000 <= nowMs) return { refused: 'the bearer expired; ask the token endpoint for a new one' };
    return grant;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
