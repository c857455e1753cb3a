import type { CacheForgeConfig, RemoteConfig } from '../config/config.js';
import type { StoredRemotes } from './stored-remotes.js';
import type { LoadedPlugin } from '../config/plugin-source.js';
import { formatDuration } from '../util/units.js';
import { coreSchema, remoteSchema } from '../config/schema.js';
import { duration } from '../config/fields.js';
import { isSchemaOf, schemasAt } from '../config/coerce.js';
import type { z } from 'zod';
import { SECRET_KEY } from '../util/secret-keys.js';

/** Whether the schema reads the key at `path` as a duration (so it is shown as `10m`, as written). */
function isDuration(schema: z.ZodType, path: readonly string[]): boolean {
  const found = schemasAt(schema, path);
  return found.length > 0 && found.some((t) => isSchemaOf(t, duration));
}


/**
 * The effective config as YAML-ish JSON a person can read: defaults filled in, regexes as their
 * source, durations as `10m`, and every value that came from the environment or sits under a
 * secret-looking key masked.
 */
export function describeConfig(config: CacheForgeConfig, plugins: ReadonlyMap<string, LoadedPlugin>, stored?: StoredRemotes): string {
  // Durations are found by the schema, not by their names: `cache.lock.wait` and `redirectExpiry` are durations too.
  const masked = (path: string, value: unknown, schema: z.ZodType = coreSchema, base: readonly string[] = []): unknown => {
    if (config.secretPaths.has(path) || SECRET_KEY.test(path.split('.').pop() ?? '')) return '***';
    if (value instanceof RegExp) return value.source;
    if (value instanceof URL) {
      // NOTE: credentials written inline (`https://user:pass@host/`) are secrets too.
      if (!value.password) return value.href;
      const shown = new URL(value.href);
      shown.password = '***';
      return shown.href;
    }
    // Connection strings (`postgres://user:pw@db/`, `redis://:pw@host`) carry their password inline.
    if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) return value.replace(/^([^:]+:\/\/[^/:@]*:)[^/@]*@/, '$1***@');
    if (Array.isArray(value)) return value.map((v, i) => masked(`${path}.${i}`, v, schema, base));
    if (value && typeof value === 'object' && !(value instanceof Set)) {
      return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, masked(path ? `${path}.${k}` : k, v, schema, base)]));
    }
    if (typeof value === 'number' && Number.isFinite(value) && isDuration(schema, path.split('.').slice(base.length))) return formatDuration(value);
    return value;
  };
  const remoteViews = (list: readonly RemoteConfig[]) => Object.fromEntries(list.map((r) => {
    const { name, options, headers, ...rest } = r;
    const headerView = Object.fromEntries(Object.keys(headers).map((k) => [k, '***']));
    const schema = remoteSchema(plugins.get(r.type)?.options);
    const at = ['remotes', name];
    return [name, { ...masked(`remotes.${name}`, rest, schema, at) as object, headers: headerView, ...masked(`remotes.${name}`, options, schema, at) as object }];
  }));
  const { secretPaths: _secrets, remotes: _remotes, ...core } = config;
  const view = {
    ...masked('', core) as object,
    plugins: [...plugins.values()].map((p) => `${p.specifier} (format ${p.plugin.name})`),
    remotes: remoteViews(Object.values(config.remotes)),
    // Added through the API (`PUT /-/api/v1/remotes/{name}`), read back from the metadata store.
    ...(stored ? { runtimeRemotes: { ...remoteViews(Object.values(stored.remotes)), ...Object.fromEntries(Object.entries(stored.invalid).map(([n, why]) => [n, { invalid: why }])) } } : {}),
  };
  return JSON.stringify(view, null, 2);
}
