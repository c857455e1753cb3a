import type {
  ArtifactRequest, ArtifactResponse, CachedRoute, FetchContext, Handler, PluginContext, RemoteDefinition, Route, ServeOptions, Verification,
} from '@cacheforge/core';
import { acceptedManifestTypes, ALL_MANIFEST_TYPES } from './media-types.js';
import { parseRegistryPath, upstreamName, type Digest, type RegistryPath } from './reference.js';
import { API_VERSION_HEADER } from './errors.js';
import { RegistryTokenAuth } from './token-auth.js';
import type { DockerOptions } from './options.js';

/** Headers kept with a manifest and replayed on hits. */
const MANIFEST_HEADERS = ['content-type', 'docker-content-digest'] as const;

/** A manifest is small; the HEAD a client sends first (containerd) fills it, so the GET that follows is a hit. */
const MANIFEST_OPTIONS = { keepHeaders: MANIFEST_HEADERS, fillOnHead: true } as const satisfies ServeOptions;

/**
 * One docker remote: the pull side of the registry API, cached. Manifests by digest and blobs are
 * immutable and verified against their digest; a tag is a mutable pointer, revalidated with a HEAD
 * (same `Docker-Content-Digest`: unchanged) and stored once per distinct `Accept` set, because the
 * upstream answers a tag with a different manifest per accepted type. Tag lists and referrers are
 * mutable documents. Everything else under `/v2/` (push, catalog) is not a proxy's to answer.
 */
export function createDockerHandler(remote: RemoteDefinition<DockerOptions>, context: PluginContext): Handler {
  const options = remote.options;
  const credentials = options.username && options.password ? { username: options.username, password: options.password } : undefined;
  const base = remote.upstream.href;

  function upstreamUrl(path: RegistryPath, tail: string, search = ''): string {
    return `${base}v2/${upstreamName(path.name, options.libraryPrefix)}/${tail}${search}`;
  }

  return {
    upstreamAuth: new RegistryTokenAuth(context.store, credentials, context.log),

    canHandle(req: ArtifactRequest): Route | undefined {
      const path = parseRegistryPath(req.segments);
      if (!path) return undefined;
      const name = upstreamName(path.name, options.libraryPrefix);
      switch (path.kind) {
        case 'manifest':
          if (path.digest) return { kind: 'cached', key: `${name}/manifests/${path.digest.text}`, class: 'immutable' };
          return { kind: 'cached', key: `${name}/manifests/${path.reference}`, class: 'mutable', variant: acceptedManifestTypes(req.headers.accept).join(',') };
        case 'blob':
          // Keyed by digest alone: a base layer shared by many repositories is fetched once. The
          // first requester's repository names the upstream URL; the bytes are verified either way.
          return { kind: 'cached', key: `blobs/${path.digest.text}`, class: 'immutable' };
        case 'tags':
          return { kind: 'cached', key: `${name}/tags/list${pageQuery(req.search, ['n', 'last'])}`, class: 'mutable' };
        case 'referrers':
          return { kind: 'cached', key: `${name}/referrers/${path.digest.text}${pageQuery(req.search, ['artifactType'])}`, class: 'mutable' };
      }
    },

    async fetch(req: ArtifactRequest, route: CachedRoute | { kind: 'passthrough' }, ctx: FetchContext): Promise<ArtifactResponse> {
      const path = parseRegistryPath(req.segments)!;
      const cached = route as CachedRoute;
      switch (path.kind) {
        case 'manifest': {
          if (path.digest) {
            const response = await ctx.pipeline.serve(req, cached, { url: upstreamUrl(path, `manifests/${path.digest.text}`), headers: { accept: ALL_MANIFEST_TYPES } },
              { ...MANIFEST_OPTIONS, verify: byDigest(path.digest) });
            return withRegistryHeaders(response, path.digest.text);
          }
          const accepted = cached.variant ? cached.variant.split(',').join(', ') : ALL_MANIFEST_TYPES;
          const response = await ctx.pipeline.serve(req, cached, { url: upstreamUrl(path, `manifests/${path.reference}`), headers: { accept: accepted } },
            {
              // A tag names no digest: the registry's Docker-Content-Digest header says what the bytes must be.
              ...MANIFEST_OPTIONS, headValidator: 'docker-content-digest', verify: { kind: 'header', header: 'docker-content-digest' },
              // Asked with fewer types than it has, a registry answers 404 ("OCI index found, but
              // accept header does not support OCI indexes"): that says nothing to another client.
              rememberNotFound: !cached.variant,
              // The tag's manifest is also its digest's: a later pull by digest (containerd resolves
              // a tag, then fetches by digest) is a hit, and works with the upstream down.
              alias: (sha256) => ({ kind: 'cached', key: `${upstreamName(path.name, options.libraryPrefix)}/manifests/sha256:${sha256}`, class: 'immutable' }),
            });
          return withRegistryHeaders(response, response.headers?.['docker-content-digest'] ?? digestOfEtag(response));
        }
        case 'blob': {
          const response = await ctx.pipeline.serve(req, cached, { url: upstreamUrl(path, `blobs/${path.digest.text}`) },
            { verify: byDigest(path.digest), keepHeaders: ['content-type'] });
          return withRegistryHeaders(response, path.digest.text);
        }
        case 'tags': {
          const response = await ctx.pipeline.serve(req, cached, { url: upstreamUrl(path, 'tags/list', pageQuery(req.search, ['n', 'last'])) },
            { keepHeaders: ['content-type', 'link'] });
          return withRegistryHeaders(response, undefined, relativeLink(response.headers?.link));
        }
        case 'referrers': {
          const response = await ctx.pipeline.serve(req, cached, { url: upstreamUrl(path, `referrers/${path.digest.text}`, pageQuery(req.search, ['artifactType'])) },
            { keepHeaders: ['content-type', 'oci-filters-applied'] });
          return withRegistryHeaders(response);
        }
      }
    },
  };
}

/** A manifest or blob named by its digest is verified against that name. */
function byDigest(digest: Digest): Verification {
  return { kind: 'known', digests: [{ algorithm: digest.algorithm, hex: digest.hex }] };
}

/** The registry headers on a cached answer: API version, and the digest of what is sent. */
function withRegistryHeaders(response: ArtifactResponse, digest?: string, link?: string): ArtifactResponse {
  const headers: Record<string, string> = { ...response.headers, ...API_VERSION_HEADER };
  if (digest) headers['docker-content-digest'] = digest;
  if (link !== undefined) headers.link = link;
  else delete headers.link;
  return { ...response, headers };
}

/** A stored object's ETag is the sha256 of its exact bytes: for a manifest, its digest. */
function digestOfEtag(response: ArtifactResponse): string | undefined {
  const hex = /^"([a-f0-9]{64})"$/.exec(response.entity?.etag ?? '')?.[1];
  return hex ? `sha256:${hex}` : undefined;
}

/**
 * The query parameters that select a page or filter, in a fixed order (so they key the cache the
 * same however a client orders them), with the leading `?`; `''` when there are none.
 */
function pageQuery(search: string, names: readonly string[]): string {
  const params = new URLSearchParams(search);
  const kept = new URLSearchParams();
  for (const name of names) for (const value of params.getAll(name)) kept.append(name, value);
  const text = kept.toString();
  return text ? `?${text}` : '';
}

/**
 * A tag list's `Link: </v2/<upstream name>/tags/list?…>; rel="next"` as a query-only reference,
 * which clients resolve against the URL they asked (so it stays under this mirror's path).
 */
export function relativeLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  return link.replace(/<[^>?]*\/tags\/list(\?[^>]*)>/, '<$1>');
}
