import type { ArtifactRequest } from '@cacheforge/core';

/** The index of one repository directory (`<branch>/<repository>/<arch>/`). */
export const INDEX_FILE = 'APKINDEX.tar.gz';

/**
 * What a path below an Alpine remote names. apk appends `/<arch>/APKINDEX.tar.gz` and
 * `/<arch>/<name>-<version>.apk` to each repository line; anything else on a mirror (release
 * images, `latest-releases.yaml`) is a plain file.
 */
export type AlpinePath =
  | { readonly kind: 'index' }
  | { readonly kind: 'package'; readonly file: string; readonly dir: string; readonly rawDir: string }
  | { readonly kind: 'file' };

export function parsePath(req: ArtifactRequest): AlpinePath | undefined {
  const file = req.segments.at(-1);
  // No directory listings: apk never asks for one, and a mirror's HTML listing is not a file.
  if (!file || req.path.endsWith('/')) return undefined;
  if (file === INDEX_FILE) return { kind: 'index' };
  if (file.endsWith('.apk') && file.length > '.apk'.length) {
    return { kind: 'package', file, dir: req.path.slice(0, req.path.length - file.length), rawDir: req.rawPath.slice(0, req.rawPath.lastIndexOf('/') + 1) };
  }
  return { kind: 'file' };
}
