import type { z } from 'zod';
import { coerceBySchema } from './coerce.js';

/** The prefix of environment variables that override settings. */
export const ENV_PREFIX = 'CACHEFORGE_';
/** Prefixed variables that are not settings. */
const NOT_SETTINGS = new Set(['CACHEFORGE_CONFIG']);

/** One override that was applied, for logs and `config check`. */
export interface AppliedOverride { readonly variable: string; readonly path: readonly string[] }

/**
 * The environment variable that overrides a setting: `CACHEFORGE_` plus the key path in upper
 * snake case (`server.port` → `CACHEFORGE_SERVER_PORT`, `server.publicUrl` →
 * `CACHEFORGE_SERVER_PUBLIC_URL`). One rule, so no variable needs documenting on its own.
 */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/**
 * Every scalar setting of a schema, as key paths: objects are walked (through defaults and
 * optionals), records and arrays (remotes, plugins, lists) are not overridable this way.
 */
export function overridablePaths(schema: z.ZodType): string[][] {
  const out: string[][] = [];
  const walk = (type: z.ZodType, path: string[]) => {
    const def = (type as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def;
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) return walk(def.innerType, path);
    if (def.type === 'object' && def.shape) {
      for (const [key, child] of Object.entries(def.shape)) walk(child, [...path, key]);
      return;
    }
    if (def.type === 'record' || def.type === 'array') return;
    if (path.length > 0) out.push(path);
  };
  walk(schema, []);
  return out;
}

/**
 * Applies `CACHEFORGE_*` variables over a parsed config tree (the file wins over defaults, the
 * environment over the file, `--port` over both). A value becomes a number or a boolean only
 * where the schema takes one and no string (so a secret of digits stays a string); every other
 * value is a string, as a config file would give it. A prefixed variable that names no setting is
 * reported, so a typo is not silently ignored.
 */
export function applyEnvOverrides(tree: unknown, env: NodeJS.ProcessEnv, schema: z.ZodType): { value: unknown; applied: AppliedOverride[]; unknown: string[] } {
  const byName = new Map(overridablePaths(schema).map((path) => [envName(path), path]));
  const value = structuredClone((tree ?? {}) as Record<string, unknown>);
  const applied: AppliedOverride[] = [];
  const unknown: string[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || NOT_SETTINGS.has(variable) || raw === undefined) continue;
    const path = byName.get(variable);
    if (!path) { unknown.push(variable); continue; }
    let node = value;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = (next && typeof next === 'object' && !Array.isArray(next) ? next : (node[key] = {})) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = coerceBySchema(raw, schema, path);
    applied.push({ variable, path });
  }
  return { value, applied, unknown };
}
