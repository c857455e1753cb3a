/**
 * The registries mirrored with no config file. Docker Hub is the `default` remote (the Docker
 * daemon's `registry-mirrors` reach it at the root). Blob downloads redirect to each registry's
 * CDN or object store, whose hosts must be allowed; token services likewise.
 */
export function defaultRegistries(): Record<string, Record<string, unknown>> {
  return {
    dockerhub: {
      upstream: 'https://registry-1.docker.io/',
      default: true,
      libraryPrefix: true,
      aliases: ['docker.io', 'index.docker.io'],
      allowedHosts: ['auth.docker.io', 'production.cloudflare.docker.com', '*.cloudflare.docker.com', '*.r2.cloudflarestorage.com'],
    },
    ghcr: { upstream: 'https://ghcr.io/', allowedHosts: ['pkg-containers.githubusercontent.com', '*.githubusercontent.com'] },
    quay: { upstream: 'https://quay.io/', allowedHosts: ['*.quay.io', '*.cloudfront.net', '*.amazonaws.com'] },
    gcr: { upstream: 'https://gcr.io/', allowedHosts: ['*.gcr.io', '*.pkg.dev', 'storage.googleapis.com'] },
    k8s: { upstream: 'https://registry.k8s.io/', allowedHosts: ['*.pkg.dev', '*.amazonaws.com', 'storage.googleapis.com'] },
  };
}
