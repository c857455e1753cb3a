import type { MountedRemote } from '../plugin/remote-registry.js';
import { SECRET_KEY } from '../util/secret-keys.js';

/**
 * A remote's config as the API shows it: regexes as their source, every header value and every
 * secret-looking key masked, and credentials written into URLs masked.
 */
export function maskedConfig(remote: MountedRemote): Record<string, unknown> {
  const { name: _name, options, headers, ...rest } = remote.config;
  const mask = (key: string, value: unknown): unknown => {
    if (SECRET_KEY.test(key)) return '***';
    if (value instanceof RegExp) return value.source;
    if (value instanceof URL) {
      if (!value.password && !value.username) return value.href;
      const shown = new URL(value.href);
      if (shown.username) shown.username = '***';
      if (shown.password) shown.password = '***';
      return shown.href;
    }
    if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(value)) return value.replace(/^([^:]+:\/\/)[^/@]*@/, '$1***@');
    if (Array.isArray(value)) return value.map((v) => mask('', v));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, mask(k, v)]));
    return value;
  };
  return {
    ...mask('', rest) as object,
    headers: Object.fromEntries(Object.keys(headers).map((k) => [k, '***'])),
    options: mask('', options),
  };
}
