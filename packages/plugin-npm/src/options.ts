import type { FormatPlugin } from '@cacheforge/core';

/** The core's zod, as a plugin receives it. */
type Zod = Parameters<NonNullable<FormatPlugin['options']>>[0];

/** An npm remote's own options, beside the core's remote keys. */
export interface NpmOptions {
  /** Bearer token for a private upstream registry (`${NPM_TOKEN}`); never logged or shown. */
  readonly token?: string;
  /** Memory for package documents rewritten per client base URL. */
  readonly rewriteCacheBytes: number;
}

export function npmOptions(zod: Zod) {
  return zod.object({
    token: zod.string().min(1).optional(),
    rewriteCacheBytes: zod.number().int().min(0).default(64 * 1024 * 1024),
  });
}
