import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describeFaultMatrix({
  name: 'plugin-docker',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ dock: { type: 'docker', upstream } }),
  targets(upstream, id, size) {
    // A blob (verified by its digest) and a manifest by tag (mutable, verified by nothing but its length).
    const blob = bytesFor(`blob-${id}`, size);
    const blobPath = `/v2/${id}/blobs/${sha256(blob)}`;
    upstream.set(blobPath, { body: blob });
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, annotations: { pad: 'm'.repeat(size) },
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(blob), size: blob.length }, layers: [],
    }));
    const manifestPath = `/v2/${id}/manifests/latest`;
    upstream.set(manifestPath, { body: manifest, headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(manifest) } });
    return [
      { path: `/v2/dock/${id}/blobs/${sha256(blob)}`, body: blob, faulty: [blobPath] },
      { path: `/v2/dock/${id}/manifests/latest`, body: manifest, headers: { accept: OCI_MANIFEST }, faulty: [manifestPath], mutable: true },
    ];
  },
});
