import type { ArtifactRequest } from '@cacheforge/core';
import { isValidName, normalizeName } from './names.js';
import type { FileHost } from './file-locations.js';

/**
 * The URL space of a PyPI remote, below `/<remote>/`:
 *
 * | path | what |
 * | --- | --- |
 * | `simple/` | the project list (PEP 503/691) |
 * | `simple/<project>/` | a project's files (PEP 503/691), by normalized name |
 * | `files/<project>/<path>` | a file on the file host (`<path>.metadata`: its PEP 658 metadata) |
 * | `index-files/<project>/<path>` | a file that lives beside the pages, when the hosts differ |
 * | `pypi/<project>/json`, `pypi/<project>/<version>/json` | PyPI's JSON API |
 *
 * A project name that is not normalized, or a page without its trailing slash, is redirected.
 */
export type PypiPath =
  | { readonly kind: 'root' }
  | { readonly kind: 'project'; readonly project: string }
  | { readonly kind: 'file'; readonly host: FileHost; readonly project: string; readonly rest: string; readonly metadata: boolean }
  | { readonly kind: 'json-api'; readonly project: string; readonly version?: string }
  | { readonly kind: 'redirect'; readonly location: string };

export function parsePath(req: ArtifactRequest): PypiPath | undefined {
  const s = req.segments;
  const head = s[0];
  if (head === 'simple') {
    if (s.length === 1) return { kind: 'redirect', location: 'simple/' };
    if (s.length === 2 && s[1] === '') return { kind: 'root' };
    const name = s[1]!;
    if (!isValidName(name) || s.length > 3 || (s.length === 3 && s[2] !== '')) return undefined;
    const project = normalizeName(name);
    if (project !== name || s.length === 2) return { kind: 'redirect', location: `simple/${project}/` };
    return { kind: 'project', project };
  }
  if (head === 'files' || head === 'index-files') {
    const name = s[1];
    if (s.length < 3 || !name || !isValidName(name) || normalizeName(name) !== name || s[s.length - 1] === '') return undefined;
    // The raw rest keeps the upstream's percent-encoding: it is sent back exactly as the page gave it.
    const rest = req.rawPath.slice(head.length + name.length + 2);
    return { kind: 'file', host: head, project: name, rest, metadata: rest.endsWith('.metadata') };
  }
  if (head === 'pypi') {
    const name = s[1];
    if (!name || !isValidName(name) || s[s.length - 1] !== 'json' || (s.length !== 3 && s.length !== 4)) return undefined;
    const version = s.length === 4 ? s[2]! : undefined;
    if (version !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.+!_-]*$/.test(version)) return undefined;
    const project = normalizeName(name);
    if (project !== name) return { kind: 'redirect', location: `pypi/${project}/${version === undefined ? '' : `${encodeURIComponent(version)}/`}json` };
    return { kind: 'json-api', project, version };
  }
  return undefined;
}
