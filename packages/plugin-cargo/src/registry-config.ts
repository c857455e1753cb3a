import { cfError } from '@cacheforge/core';
import { namePrefix } from './index-paths.js';

/** What a registry's `config.json` says, as far as this remote uses it. */
export interface RegistryConfig {
  /** Where crates are downloaded from: a URL template with cargo's markers, or a base URL. */
  readonly dl: string;
  /** The web API's base URL (search, publish), when the registry has one. */
  readonly api?: string;
  /** Whether the registry wants a token on every request, downloads included. */
  readonly authRequired: boolean;
  /** The document as the upstream wrote it, for the copy served to cargo. */
  readonly raw: Readonly<Record<string, unknown>>;
}

const MARKERS = ['{crate}', '{version}', '{prefix}', '{lowerprefix}', '{sha256-checksum}'] as const;

export function parseRegistryConfig(body: Buffer, upstream: URL): RegistryConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    raw = undefined;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `${upstream.href}config.json is not a JSON object; is the upstream a sparse cargo index?`, { path: 'config.json' });
  }
  const doc = raw as Record<string, unknown>;
  if (typeof doc.dl !== 'string' || doc.dl.length === 0) {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `${upstream.href}config.json has no "dl" (where crates are downloaded from)`, { path: 'config.json' });
  }
  return {
    dl: doc.dl,
    api: typeof doc.api === 'string' && doc.api.length > 0 ? doc.api : undefined,
    authRequired: doc['auth-required'] === true,
    raw: doc,
  };
}

/** The crate facts a download template is filled with. */
export interface CrateCoordinates {
  readonly name: string;
  readonly version: string;
  /** The `cksum` of the version's index line; needed only when the template has `{sha256-checksum}`. */
  readonly cksum?: string;
}

export function needsChecksum(dl: string): boolean {
  return dl.includes('{sha256-checksum}');
}

/**
 * A crate's download URL, filled in as cargo fills the template: a `dl` with no marker at all is
 * a base, to which `/{crate}/{version}/download` is appended.
 */
export function downloadUrl(dl: string, crate: CrateCoordinates): URL {
  const template = MARKERS.some((m) => dl.includes(m)) ? dl : `${dl.replace(/\/+$/, '')}/{crate}/{version}/download`;
  const filled = template
    .replaceAll('{crate}', crate.name)
    .replaceAll('{version}', crate.version)
    .replaceAll('{prefix}', namePrefix(crate.name))
    .replaceAll('{lowerprefix}', namePrefix(crate.name).toLowerCase())
    .replaceAll('{sha256-checksum}', crate.cksum ?? '');
  try {
    return new URL(filled);
  } catch {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `the registry's config.json "dl" ${JSON.stringify(dl)} does not make a URL`, { path: 'config.json' });
  }
}

/**
 * The `config.json` cargo gets from this remote: downloads and the API point here (the markers
 * cargo fills are the ones this remote's URL space reads), everything else is the upstream's.
 * The upstream's `auth-required` is left out: this remote authenticates to the upstream itself.
 * `authRequired` (reads of the cache need a token) sets it, because cargo sends its token only then.
 */
export function clientConfig(config: RegistryConfig, base: string, authRequired = false): Buffer {
  const { 'auth-required': _auth, dl: _dl, api: _api, ...rest } = config.raw;
  const served: Record<string, unknown> = { ...rest, dl: `${base}crates/{crate}/{version}/download` };
  if (config.api) served.api = base.replace(/\/$/, '');
  if (authRequired) served['auth-required'] = true;
  return Buffer.from(`${JSON.stringify(served)}\n`);
}
