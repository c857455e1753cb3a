import { rewriteUrls } from './json-page.js';
import type { UrlMapper } from './index-file.js';

/**
 * PyPI's JSON API (`/pypi/<project>/json`, `/pypi/<project>/<version>/json`), which poetry and
 * other tools read: the files of the shown version under `urls`, and of every version under
 * `releases` (project document only), each with an absolute `url` this remote rewrites.
 */
export function rewriteJsonApi(doc: Record<string, unknown>, documentUrl: URL, map: UrlMapper): Record<string, unknown> {
  if (Array.isArray(doc.urls)) rewriteUrls(doc.urls, documentUrl, map);
  const releases = doc.releases;
  if (releases && typeof releases === 'object' && !Array.isArray(releases)) {
    for (const files of Object.values(releases)) if (Array.isArray(files)) rewriteUrls(files, documentUrl, map);
  }
  return doc;
}
