/**
 * The registry API paths below a repository (OCI distribution spec): what a request names, checked
 * against the spec's grammars so nothing else is ever forwarded upstream.
 */
export type RegistryPath =
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: string; readonly digest?: Digest }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: Digest }
  | { readonly kind: 'tags'; readonly name: string }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: Digest };

/** A content digest, `<algorithm>:<hex>`. */
export interface Digest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
  /** The digest as written (`sha256:…`). */
  readonly text: string;
}

const NAME_COMPONENT = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** Practical limit of a repository name (clients cap host + name at 255 characters). */
const NAME_MAX = 255;

export function parseDigest(text: string): Digest | undefined {
  if (!DIGEST.test(text)) return undefined;
  const [algorithm, hex] = text.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex, text };
}

/** Reads `<name>/manifests/<ref>`, `<name>/blobs/<digest>`, `<name>/tags/list`, `<name>/referrers/<digest>`. */
export function parseRegistryPath(segments: readonly string[]): RegistryPath | undefined {
  if (segments.length < 3) return undefined;
  const nameSegments = segments.slice(0, -2);
  const [kind, last] = segments.slice(-2) as [string, string];
  if (!nameSegments.every((s) => NAME_COMPONENT.test(s))) return undefined;
  const name = nameSegments.join('/');
  if (name.length > NAME_MAX) return undefined;
  if (kind === 'manifests') {
    const digest = parseDigest(last);
    if (digest) return { kind: 'manifest', name, reference: last, digest };
    return TAG.test(last) ? { kind: 'manifest', name, reference: last } : undefined;
  }
  if (kind === 'blobs' || kind === 'referrers') {
    const digest = parseDigest(last);
    return digest ? { kind: kind === 'blobs' ? 'blob' : 'referrers', name, digest } : undefined;
  }
  if (kind === 'tags' && last === 'list') return { kind: 'tags', name };
  return undefined;
}

/** The repository name as the upstream knows it: Docker Hub keeps official images under `library/`. */
export function upstreamName(name: string, libraryPrefix: boolean): string {
  return libraryPrefix && !name.includes('/') ? `library/${name}` : name;
}
