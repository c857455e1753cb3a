import { cfError } from '@cacheforge/core';

/** One version's line in a crate's index file, the fields this remote reads. */
export interface IndexEntry {
  readonly name: string;
  readonly vers: string;
  /** The sha256 of the `.crate`, hex. */
  readonly cksum: string;
  readonly yanked: boolean;
}

/**
 * The entry of `version` in an index file (one JSON object per line), or undefined when the file
 * does not list it. Lines that are not JSON are skipped, as cargo skips them.
 */
export function findVersion(body: Buffer, name: string, version: string): IndexEntry | undefined {
  for (const line of body.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    let entry: unknown;
    try { entry = JSON.parse(line); } catch { continue; }
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    if (e.vers !== version || typeof e.name !== 'string' || e.name.toLowerCase() !== name.toLowerCase()) continue;
    if (typeof e.cksum !== 'string' || !/^[0-9a-fA-F]{64}$/.test(e.cksum)) {
      throw cfError('CF_ERR_UPSTREAM_INVALID', `the index line of ${name} ${version} has no sha256 cksum`, { path: name });
    }
    return { name: e.name, vers: version, cksum: e.cksum.toLowerCase(), yanked: e.yanked === true };
  }
  return undefined;
}
