/** What a path below an apt remote is, by the archive layout (`dists/<suite>/...`, `pool/...`). */
export type AptPath =
  | { readonly kind: 'release'; readonly suite: string; readonly file: 'InRelease' | 'Release' | 'Release.gpg' }
  | { readonly kind: 'by-hash'; readonly suite: string; readonly algorithm: 'sha256' | 'sha512' | 'md5'; readonly hex: string }
  | { readonly kind: 'index'; readonly suite: string; readonly file: string }
  | { readonly kind: 'pool'; readonly file: string }
  | { readonly kind: 'other' };

const ALGORITHMS: Readonly<Record<string, 'sha256' | 'sha512' | 'md5'>> = { SHA256: 'sha256', SHA512: 'sha512', MD5Sum: 'md5' };
const HEX_LENGTH = { sha256: 64, sha512: 128, md5: 32 } as const;

export function parsePath(segments: readonly string[]): AptPath | undefined {
  if (segments.length === 0 || segments.some((s) => s === '')) return undefined;
  if (segments[0] === 'pool') return segments.length > 1 ? { kind: 'pool', file: segments.join('/') } : undefined;
  if (segments[0] !== 'dists') return { kind: 'other' };
  if (segments.length < 3) return undefined;
  const suite = segments[1]!;
  const rest = segments.slice(2);
  const last = rest[rest.length - 1]!;
  if (rest.length === 1 && (last === 'InRelease' || last === 'Release' || last === 'Release.gpg')) return { kind: 'release', suite, file: last };
  const at = rest.lastIndexOf('by-hash');
  if (at >= 0 && at === rest.length - 3) {
    const algorithm = ALGORITHMS[rest[at + 1]!];
    if (!algorithm) return undefined;
    const hex = last.toLowerCase();
    if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) return undefined;
    return { kind: 'by-hash', suite, algorithm, hex };
  }
  return { kind: 'index', suite, file: rest.join('/') };
}
