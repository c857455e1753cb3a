import type { AuthConfig } from '../config/auth-schema.js';
import type { TokenRecord, TokenStore } from '../metadata/management.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { SCOPES, type Principal, type Scope } from './scopes.js';
import { sameHash, tokenHash } from './token-secret.js';

/** What a credential turned out to be. */
export type Identification =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'principal'; readonly principal: Principal };

/**
 * How long a looked-up token is trusted without asking the metadata store again: a revocation
 * made on another replica takes effect within this (on this one, at once).
 */
export const TOKEN_CACHE_MS = 2000;

/**
 * Turns a token value into who it is: a configured admin token (compared by hash, in constant
 * time), else a stored token that is neither expired nor revoked. Lookups are remembered for
 * {@link TOKEN_CACHE_MS}; last-used times are written in batches.
 */
export class Authenticator {
  private readonly configured: { hash: string; principal: Principal }[];
  private readonly recent = new Map<string, { record: TokenRecord | undefined; until: number }>();
  private pendingUse = new Map<string, number>();
  private readonly timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(auth: AuthConfig, private readonly tokens: TokenStore, private readonly clock: Clock, private readonly log: Logger, private readonly flushMs: number) {
    this.configured = auth.adminTokens.map((value, i) => ({ hash: tokenHash(value), principal: { name: `config:${i}`, scopes: [...SCOPES] } }));
    if (flushMs > 0) {
      this.timer = setInterval(() => void this.flush(), flushMs);
      this.timer.unref();
    }
  }

  /** Whether any admin token is configured (the start log warns when not). */
  get hasAdminToken(): boolean { return this.configured.length > 0; }

  async identify(value: string | undefined): Promise<Identification> {
    if (value === undefined) return { kind: 'none' };
    const hash = tokenHash(value);
    for (const c of this.configured) if (sameHash(c.hash, hash)) return { kind: 'principal', principal: c.principal };
    const now = this.clock.now();
    let cached = this.recent.get(hash);
    if (!cached || cached.until <= now) {
      cached = { record: await this.tokens.byHash(hash), until: now + TOKEN_CACHE_MS };
      if (this.recent.size > 10_000) this.recent.clear();
      this.recent.set(hash, cached);
    }
    const record = cached.record;
    if (!record) return { kind: 'invalid', reason: 'the token is not known here' };
    if (record.revokedAt !== undefined) return { kind: 'invalid', reason: `token ${JSON.stringify(record.name)} was revoked` };
    if (record.expiresAt !== undefined && record.expiresAt <= now) return { kind: 'invalid', reason: `token ${JSON.stringify(record.name)} expired at ${new Date(record.expiresAt).toISOString()}` };
    this.pendingUse.set(record.id, now);
    if (this.flushMs === 0) void this.flush();
    return {
      kind: 'principal',
      principal: { name: record.name, id: record.id, scopes: record.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)), remotes: record.remotes },
    };
  }

  /** Drops remembered lookups (after a revocation here). */
  forget(): void {
    this.recent.clear();
  }

  /** Writes pending last-used times; resolves when written (or failed and logged). */
  flush(): Promise<void> {
    if (this.pendingUse.size === 0) return this.writing;
    const batch = [...this.pendingUse].map(([id, at]) => ({ id, at }));
    this.pendingUse = new Map();
    this.writing = this.writing.then(() => this.tokens.touch(batch)).catch((err: unknown) => {
      this.log.warn({ err, count: batch.length }, 'could not record token last-used times');
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
