import type { FormatPlugin } from '@cacheforge/core';

/** The core's zod, as handed to `options` (a plugin carries no zod of its own). */
type Zod = Parameters<NonNullable<FormatPlugin['options']>>[0];

/** A helm remote's own options, beside the core's remote keys. */
export interface HelmOptions {
  /** Basic auth for a private repository (ChartMuseum, Harbor, Artifactory); sent to the upstream's origin only, never logged. */
  readonly username?: string;
  readonly password?: string;
  /** Bearer token for the upstream's origin (GitLab, a token-protected ChartMuseum); never logged. */
  readonly token?: string;
  /** Memory for indexes rewritten for clients (plain and gzip), bytes. */
  readonly rewriteCacheBytes: number;
  /** The largest `index.yaml` read (Bitnami's full index is tens of MB). */
  readonly maxIndexBytes: number;
}

export function helmOptions(zod: Zod) {
  return zod.object({
    username: zod.string().min(1).optional(),
    password: zod.string().min(1).optional(),
    token: zod.string().min(1).optional(),
    rewriteCacheBytes: zod.number().int().min(0).default(256 * 1024 * 1024),
    maxIndexBytes: zod.number().int().min(1024).default(256 * 1024 * 1024),
  })
    .refine((o: { username?: string; password?: string }) => (o.username === undefined) === (o.password === undefined), { message: 'username and password go together', path: ['password'] })
    .refine((o: { username?: string; token?: string }) => o.username === undefined || o.token === undefined, { message: 'give either username and password or token, not both', path: ['token'] });
}
