import type { FormatPlugin } from '@cacheforge/core';

/** The core's zod, as handed to `options` (a plugin carries no zod of its own). */
type Zod = Parameters<NonNullable<FormatPlugin['options']>>[0];

/** A docker remote's options, beside the core's remote keys. */
export interface DockerOptions {
  /** Serve this remote at the root `/v2/<name>/…` (the Docker daemon's `registry-mirrors`). At most one remote. */
  readonly default: boolean;
  /** Other host names of this registry, matched against containerd's `?ns=` (e.g. `docker.io`). */
  readonly aliases: readonly string[];
  /** Docker Hub: a one-component name (`busybox`) is the official image `library/busybox`. */
  readonly libraryPrefix: boolean;
  /** Credentials for the registry's token service (or Basic auth); never logged. */
  readonly username?: string;
  readonly password?: string;
}

export function dockerOptions(zod: Zod) {
  return zod.object({
    default: zod.boolean().default(false),
    aliases: zod.array(zod.string().min(1).regex(/^[a-z0-9.-]+(:\d+)?$/i, 'a host name, optionally with :port')).default([]),
    libraryPrefix: zod.boolean().default(false),
    username: zod.string().min(1).optional(),
    password: zod.string().min(1).optional(),
  }).refine((o: { username?: string; password?: string }) => (o.username === undefined) === (o.password === undefined), { message: 'username and password go together', path: ['password'] });
}
