import { definePlugin, type ArtifactRequest, type Route } from '@cacheforge/core';

/**
 * The generic format: any HTTP(S) file server (release downloads, tarballs, ISO images, a
 * directory of files). A request for `/<remote>/<path>` is the upstream's `<upstream><path>`.
 * Archives, packages and images are immutable (fetched once); everything else, such as checksum
 * lists, signatures and directory indexes, is a mutable document revalidated after its TTL.
 */
export default definePlugin({
  name: 'generic',
  core: '^0.1.0',
  description: 'any HTTP(S) file server',
  classes: {
    immutable: [
      '\\.(tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|lz4|lz|7z|zip|rar|jar|war|ear|aar|whl|egg|gem|nupkg|crate|deb|udeb|ddeb|rpm|apk|msi|exe|dmg|pkg|iso|img|qcow2|vmdk|vdi|ova|wasm|AppImage|snap)$',
    ],
    mutable: ['(^|/)$', '\\.(sha1|sha256|sha512|md5|asc|sig|sign|minisig|txt|json|xml|html?|yaml|yml)$', '(^|/)(SHA\\d*SUMS|MD5SUMS|latest[^/]*)$'],
    fallback: 'mutable',
  },
  createHandler(remote) {
    return {
      canHandle(req: ArtifactRequest): Route {
        // The query string is part of what a file server answers, so it is part of the key.
        return { kind: 'cached', key: req.path + req.search };
      },
      fetch(req, route, ctx) {
        // NOTE: concatenated, not resolved: a path such as `a:b` must not become its own URL.
        const url = remote.upstream.href + req.rawPath + req.search;
        if (route.kind === 'passthrough') return ctx.pipeline.passthrough(req, { url });
        return ctx.pipeline.serve(req, route, { url });
      },
    };
  },
});
