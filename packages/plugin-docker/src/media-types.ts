/** Manifest media types a registry serves, by the name clients and registries use for them. */
export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociArtifact: 'application/vnd.oci.artifact.manifest.v1+json',
} as const;

const KNOWN: ReadonlySet<string> = new Set(Object.values(MEDIA_TYPES));

/** Every manifest type, asked for when the reference is a digest (the bytes are fixed anyway). */
export const ALL_MANIFEST_TYPES = [
  MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerSchema1Signed, MEDIA_TYPES.dockerSchema1,
].join(', ');

/**
 * The manifest types a client's `Accept` names, normalized (lowercase, no parameters, sorted,
 * unknown types dropped) so that one representation of a tag is stored per distinct set however
 * clients order or repeat their headers. An empty result means "no preference": no Accept, or one
 * that takes anything (`*\/*`, curl's and Go's default, or `application/*`), which is asked upstream
 * with every type; passed on as `*\/*`, distribution answers a tag holding an OCI index with 404.
 */
export function acceptedManifestTypes(accept: string | string[] | undefined): string[] {
  const values = Array.isArray(accept) ? accept.join(',') : accept ?? '';
  const types = new Set<string>();
  for (const part of values.split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    if (type === '*/*' || type === 'application/*') return [];
    if (KNOWN.has(type)) types.add(type);
  }
  return [...types].sort();
}
