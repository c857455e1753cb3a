/** One file a suite's `Release` lists: its path below `dists/<suite>/`, size and digests. */
export interface ReleaseFile {
  readonly size: number;
  readonly sha256?: string;
  readonly sha512?: string;
}

/** The hash table of one `InRelease`/`Release`: files by path, and paths by any of their digests (for by-hash). */
export interface ReleaseIndex {
  readonly files: ReadonlyMap<string, ReleaseFile>;
  /** Hex digest (sha256 or sha512) to the path it names. */
  readonly byHash: ReadonlyMap<string, string>;
}

const SECTIONS: Readonly<Record<string, 'sha256' | 'sha512'>> = { 'SHA256:': 'sha256', 'SHA512:': 'sha512' };

/**
 * Parses the `SHA256:`/`SHA512:` sections of a Release file, clear-signed or not. The signature is
 * apt's to check: the cache only needs the digests to tell a current index from a stale one.
 */
export function parseRelease(text: string): ReleaseIndex {
  const files = new Map<string, { size: number; sha256?: string; sha512?: string }>();
  const byHash = new Map<string, string>();
  let section: 'sha256' | 'sha512' | undefined;
  for (const line of signedBody(text).split('\n')) {
    if (!line.startsWith(' ')) {
      section = SECTIONS[line.trim()];
      continue;
    }
    if (!section) continue;
    const [hex, size, name] = line.trim().split(/\s+/);
    if (!hex || !name || !/^\d+$/.test(size ?? '')) continue;
    const entry = files.get(name) ?? { size: Number(size) };
    entry[section] = hex.toLowerCase();
    files.set(name, entry);
    byHash.set(hex.toLowerCase(), name);
  }
  return { files, byHash };
}

/** The signed text of a clear-signed message (or the whole text when it is not one), dash-escaping undone. */
function signedBody(text: string): string {
  const normalized = text.replace(/\r\n/g, '\n');
  if (!normalized.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) return normalized;
  const start = normalized.indexOf('\n\n');
  const end = normalized.indexOf('\n-----BEGIN PGP SIGNATURE-----');
  const body = normalized.slice(start + 2, end < 0 ? undefined : end);
  return body.replace(/^- /gm, '');
}

/** The strongest digest a Release entry gives, as the core's expectation takes it. */
export function releaseDigests(file: ReleaseFile): { algorithm: 'sha256' | 'sha512'; hex: string }[] {
  if (file.sha256) return [{ algorithm: 'sha256', hex: file.sha256 }];
  if (file.sha512) return [{ algorithm: 'sha512', hex: file.sha512 }];
  return [];
}
