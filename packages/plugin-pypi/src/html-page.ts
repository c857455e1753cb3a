import { parseHashPair, resolveLink, type IndexFile, type UrlMapper } from './index-file.js';

/**
 * PEP 503 HTML pages: a list of anchors whose `href` is a file (with an optional `#<hash>=<hex>`
 * fragment) and whose `data-*` attributes carry PEP 592 `data-yanked`, `data-requires-python` and
 * PEP 658/714 `data-dist-info-metadata` / `data-core-metadata`. Only `href` values are touched:
 * everything else of the upstream's page reaches the client byte for byte.
 */

const ANCHOR = /<a\s[^>]*>/gi;
/** Tags whose `href` the rewrite changes: anchors, and `<base>` (relative links resolve against it). */
const LINKING = /<(?:a|base)\s[^>]*>/gi;
const ATTRIBUTE = /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const BASE = /<base\s[^>]*>/i;

interface Attribute { readonly name: string; readonly value: string; readonly start: number; readonly end: number }

/** The attributes of one tag, with the offsets (in the page) of each raw value. */
function attributes(tag: string, offset: number): Map<string, Attribute> {
  const found = new Map<string, Attribute>();
  ATTRIBUTE.lastIndex = tag.search(/\s/);
  for (let m = ATTRIBUTE.exec(tag); m; m = ATTRIBUTE.exec(tag)) {
    const name = m[1]!.toLowerCase();
    const raw = m[2] ?? m[3] ?? m[4];
    if (raw === undefined || found.has(name)) continue;
    const start = offset + m.index + m[0].length - raw.length - (m[4] === undefined ? 1 : 0);
    found.set(name, { name, value: unescapeHtml(raw), start, end: start + raw.length });
  }
  return found;
}

/** The URL links resolve against: the page's own, or its `<base href>`. */
function baseOf(page: string, pageUrl: URL): URL {
  const tag = BASE.exec(page);
  const href = tag ? attributes(tag[0], tag.index).get('href')?.value : undefined;
  return (href && resolveLink(href, pageUrl)) || pageUrl;
}

/** The files a project page lists (anchors that resolve to a URL). */
export function filesOfHtml(page: string, pageUrl: URL): IndexFile[] {
  const base = baseOf(page, pageUrl);
  const files: IndexFile[] = [];
  for (const m of page.matchAll(ANCHOR)) {
    const attrs = attributes(m[0], m.index);
    const href = attrs.get('href')?.value;
    const url = href === undefined ? undefined : resolveLink(href, base);
    if (!url) continue;
    const hashes = parseHashPair(url.hash.slice(1)) ?? {};
    url.hash = '';
    const meta = (attrs.get('data-core-metadata') ?? attrs.get('data-dist-info-metadata'))?.value;
    const metadata = meta === undefined || meta === 'false' ? undefined : meta === 'true' ? true : parseHashPair(meta) ?? true;
    files.push({ url: url.href, hashes, metadata });
  }
  return files;
}

/**
 * The page with the `href` of every anchor and of `<base>` replaced by `map` of its absolute URL
 * (fragment kept).
 * Spliced by offsets, so the rest of the page is untouched and the cost is one pass.
 */
export function rewriteHtml(page: string, pageUrl: URL, map: UrlMapper): string {
  const base = baseOf(page, pageUrl);
  const parts: string[] = [];
  let last = 0;
  for (const m of page.matchAll(LINKING)) {
    const href = attributes(m[0], m.index).get('href');
    const url = href ? resolveLink(href.value, base) : undefined;
    const mapped = url ? map(url) : undefined;
    if (!href || mapped === undefined) continue;
    parts.push(page.slice(last, href.start), escapeHtml(mapped));
    last = href.end;
  }
  if (last === 0) return page;
  parts.push(page.slice(last));
  return parts.join('');
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeHtml(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[entity.toLowerCase()] ?? all;
  });
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
