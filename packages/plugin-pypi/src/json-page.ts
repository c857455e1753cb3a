import { cfError } from '@cacheforge/core';
import { resolveLink, type IndexFile, type UrlMapper } from './index-file.js';

/**
 * PEP 691 JSON pages: `{"meta": {...}, "name": ..., "files": [{"filename", "url", "hashes", ...}]}`
 * (PEP 700 adds `versions`, `size`, `upload-time`; PEP 714 `core-metadata` beside the older
 * `dist-info-metadata`). A file's `url` may be relative to the page. Only `url` values change.
 */

interface JsonFile { url?: unknown; hashes?: unknown; 'core-metadata'?: unknown; 'dist-info-metadata'?: unknown }

/** Parses an upstream JSON document; a malformed one is the upstream's fault, said so. */
export function parseJsonDocument(body: Buffer | string, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw cfError('CF_ERR_UPSTREAM_INVALID', `${what} is not a JSON object`);
  return doc as Record<string, unknown>;
}

function filesArray(doc: Record<string, unknown>): JsonFile[] {
  const files = doc.files;
  return Array.isArray(files) ? files.filter((f): f is JsonFile => !!f && typeof f === 'object') : [];
}

function hashMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  }
  return out;
}

/** The files a JSON project page lists. */
export function filesOfJson(doc: Record<string, unknown>, pageUrl: URL): IndexFile[] {
  const files: IndexFile[] = [];
  for (const f of filesArray(doc)) {
    const url = typeof f.url === 'string' ? resolveLink(f.url, pageUrl) : undefined;
    if (!url) continue;
    url.hash = '';
    const meta = f['core-metadata'] ?? f['dist-info-metadata'];
    const metadata = !meta ? undefined : meta === true ? true : typeof meta === 'object' ? hashMap(meta) : true;
    files.push({ url: url.href, hashes: hashMap(f.hashes), metadata });
  }
  return files;
}

/** Replaces each `url` of `entries` (file objects) by `map` of its absolute form; true when any changed. */
export function rewriteUrls(entries: readonly unknown[], base: URL, map: UrlMapper): boolean {
  let changed = false;
  for (const entry of entries) {
    if (!entry || typeof entry !== 'object') continue;
    const file = entry as { url?: unknown };
    const url = typeof file.url === 'string' ? resolveLink(file.url, base) : undefined;
    const mapped = url ? map(url) : undefined;
    if (mapped === undefined) continue;
    file.url = mapped;
    changed = true;
  }
  return changed;
}

/** A JSON project page with its file URLs rewritten. */
export function rewriteSimpleJson(doc: Record<string, unknown>, pageUrl: URL, map: UrlMapper): Record<string, unknown> {
  rewriteUrls(filesArray(doc), pageUrl, map);
  return doc;
}
