/**
 * PEP 691 content negotiation. A simple-API page has two serializations, chosen by the client's
 * `Accept` header (or the optional `?format=` parameter): JSON (`application/vnd.pypi.simple.v1+json`)
 * and HTML (`application/vnd.pypi.simple.v1+html`, with `text/html` as its PEP 503 alias).
 */
export type PageFormat = 'json' | 'html';

export const JSON_TYPES = ['application/vnd.pypi.simple.v1+json', 'application/vnd.pypi.simple.latest+json'] as const;
export const HTML_TYPES = ['application/vnd.pypi.simple.v1+html', 'application/vnd.pypi.simple.latest+html', 'text/html'] as const;

/**
 * What the proxy asks the upstream for each variant. Both accept HTML too: an index that predates
 * PEP 691 answers HTML to anything, and the stored page says which it is by its content type.
 */
export const UPSTREAM_ACCEPT: Readonly<Record<PageFormat, string>> = {
  json: 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.1, text/html;q=0.01',
  html: 'application/vnd.pypi.simple.v1+html, text/html;q=0.1',
};

/**
 * The serialization to answer with. JSON only when the client prefers it strictly (higher quality);
 * a tie, no `Accept` or an `Accept` naming neither gets HTML, which every client understands.
 */
export function negotiateFormat(accept: string | undefined, search: string): PageFormat {
  const format = search ? formatParameter(search) : undefined;
  if (format) {
    const requested = format.toLowerCase();
    if ((JSON_TYPES as readonly string[]).includes(requested)) return 'json';
    if ((HTML_TYPES as readonly string[]).includes(requested)) return 'html';
  }
  if (!accept) return 'html';
  let json = 0;
  let html = 0;
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.split(';');
    const type = rawType!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') q = Number(v) || 0;
    }
    if ((JSON_TYPES as readonly string[]).includes(type) || type === 'application/*' || type === '*/*') json = Math.max(json, q);
    if ((HTML_TYPES as readonly string[]).includes(type) || type === 'application/*' || type === 'text/*' || type === '*/*') html = Math.max(html, q);
  }
  return json > html ? 'json' : 'html';
}

/** Whether a stored page is JSON, by the content type its upstream gave it. */
export function isJsonPage(contentType: string | undefined): boolean {
  return !!contentType && /\bjson\b/i.test(contentType);
}

/** The raw `format` query parameter. Not URLSearchParams: a literal `+` (as in `v1+json`) is no space here. */
function formatParameter(search: string): string | undefined {
  for (const pair of search.slice(1).split('&')) {
    if (!pair.startsWith('format=')) continue;
    try { return decodeURIComponent(pair.slice('format='.length)); } catch { return undefined; }
  }
  return undefined;
}
