import type { ArtifactRequest } from '@cacheforge/core';

/** Checksum sidecars Maven repositories publish, strongest first. */
export const CHECKSUMS = ['sha512', 'sha256', 'sha1', 'md5'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUMS)[number];

const METADATA = 'maven-metadata.xml';
/** `artifact-1.0-20240102.030405-7.jar`: a snapshot deployed once, under a name of its own. */
const TIMESTAMPED = /-\d{8}\.\d{6}-\d+(?:[-.]|$)/;

/**
 * The layout every Maven 2 repository shares, below `/<remote>/`:
 *
 * | path | what | class |
 * | --- | --- | --- |
 * | `<dir>/maven-metadata.xml` | versions of an artifact, plugin prefixes of a group, builds of a snapshot | mutable |
 * | `<dir>/maven-metadata.xml.<sum>` | its checksum, computed from the copy served | (follows the metadata) |
 * | `<group>/<artifact>/<version>/<file>` | a release file | immutable, verified against its sidecar |
 * | `…/<version>-SNAPSHOT/<file>` | a snapshot file: timestamped ones immutable, the others mutable | |
 * | `<file>.sha1`, `.md5`, `.sha256`, `.sha512` | a file's checksum sidecar, stored beside it | as its file |
 */
export type MavenPath =
  | { readonly kind: 'metadata'; readonly dir: string }
  | { readonly kind: 'metadata-sum'; readonly dir: string; readonly algorithm: ChecksumAlgorithm }
  | { readonly kind: 'file'; readonly key: string; readonly mutable: boolean }
  | { readonly kind: 'sum'; readonly key: string; readonly mutable: boolean };

export function parsePath(req: ArtifactRequest): MavenPath | undefined {
  const s = req.segments;
  const name = s[s.length - 1];
  if (!name || s.some((x) => x === '' || x.startsWith('.'))) return undefined;
  const dir = s.slice(0, -1).map((x) => `${x}/`).join('');
  if (name === METADATA) return s.length >= 2 ? { kind: 'metadata', dir } : undefined;
  const sum = checksumOf(name);
  if (name.startsWith(`${METADATA}.`)) return sum && s.length >= 2 ? { kind: 'metadata-sum', dir, algorithm: sum } : undefined;
  // group (one segment at least) / artifact / version / file
  if (s.length < 4) return undefined;
  const version = s[s.length - 2]!;
  const mutable = version.endsWith('-SNAPSHOT') && !TIMESTAMPED.test(name);
  return { kind: sum ? 'sum' : 'file', key: dir + name, mutable };
}

function checksumOf(name: string): ChecksumAlgorithm | undefined {
  return CHECKSUMS.find((alg) => name.endsWith(`.${alg}`));
}
