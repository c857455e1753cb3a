/**
 * What a token may do. Each scope includes the ones before it: `read` (artifacts and every GET of
 * the API), `write` (purge, flush), `admin` (tokens, and everything else).
 */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Whether a token holding `held` may do what needs `needed`. */
export function grants(held: readonly string[], needed: Scope): boolean {
  const rank = SCOPES.indexOf(needed);
  return held.some((s) => SCOPES.indexOf(s as Scope) >= rank);
}

/** Who made a request: a configured admin token, or a token made through the API. */
export interface Principal {
  /** The token's name (`config:<n>` for the n-th configured admin token). */
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** The remotes it may read; absent = all. */
  readonly remotes?: readonly string[];
  /** The stored token's id; absent for configured tokens. */
  readonly id?: string;
}

/** Whether `principal` may read `remote`'s artifacts. */
export function mayReadRemote(principal: Principal, remote: string): boolean {
  return principal.remotes === undefined || principal.remotes.includes(remote);
}
