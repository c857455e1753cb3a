import type { ExpectedDigest } from '@cacheforge/core';

/** One distribution file as a simple-API page lists it. */
export interface IndexFile {
  /** Absolute upstream URL, without its fragment. */
  readonly url: string;
  /** Hash name (lowercase) to hex digest: the `#sha256=` fragment (HTML) or `hashes` (JSON). */
  readonly hashes: Readonly<Record<string, string>>;
  /**
   * PEP 658/714: whether `<url>.metadata` exists, and its hashes when the page gives them
   * (`data-core-metadata="sha256=…"`, `"core-metadata": {"sha256": …}`).
   */
  readonly metadata?: true | Readonly<Record<string, string>>;
}

/** A page rewrites URLs through this: an absolute upstream URL to the client's, or `undefined` to keep it. */
export type UrlMapper = (url: URL) => string | undefined;

/** The strongest digest the core can verify, from a page's hashes; `undefined` when it gives none. */
export function expectedDigest(hashes: Readonly<Record<string, string>>): ExpectedDigest | undefined {
  for (const algorithm of ['sha256', 'sha512', 'sha1'] as const) {
    const hex = hashes[algorithm];
    if (typeof hex === 'string' && /^[0-9a-fA-F]+$/.test(hex)) return { algorithm, hex: hex.toLowerCase() };
  }
  return undefined;
}

/** Resolves a link of a page; `undefined` for a link no URL parser accepts. */
export function resolveLink(href: string, base: URL): URL | undefined {
  try {
    return new URL(href, base);
  } catch {
    return undefined;
  }
}

/** Splits `name=hex` (a PEP 503 fragment or a PEP 658 attribute value) into a one-entry hash map. */
export function parseHashPair(value: string): Record<string, string> | undefined {
  const eq = value.indexOf('=');
  if (eq <= 0) return undefined;
  return { [value.slice(0, eq).toLowerCase()]: value.slice(eq + 1) };
}
