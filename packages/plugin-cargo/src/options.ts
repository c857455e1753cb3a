import type { FormatPlugin } from '@cacheforge/core';

type Zod = Parameters<NonNullable<FormatPlugin['options']>>[0];

/** A cargo remote's own options, beside the core's remote keys. */
export interface CargoOptions {
  /** The registry's token (`${CARGO_TOKEN}`), sent as cargo sends it, to the upstream's origin only. */
  readonly token?: string;
  /** The host crates are downloaded from when it is not the index's own (crates.io: static.crates.io). */
  readonly downloads?: string;
  /** The host of the registry's web API, for search (crates.io: crates.io). */
  readonly api?: string;
}

const HOST_OR_URL = /^(?:https?:\/\/[^/\s]+\/?\S*|[A-Za-z0-9.-]+(?::\d+)?)$/;

export function cargoOptions(zod: Zod) {
  return zod.object({
    token: zod.string().min(1).optional(),
    downloads: zod.string().regex(HOST_OR_URL, 'a host name (static.crates.io) or an http(s) URL').optional(),
    api: zod.string().regex(HOST_OR_URL, 'a host name (crates.io) or an http(s) URL').optional(),
  });
}

/** crates.io's own hosts, the defaults of a remote whose upstream is its index. */
export const CRATES_IO = { index: 'index.crates.io', downloads: 'static.crates.io', api: 'crates.io' } as const;
