import {
  cfError, memoryEntity, RewrittenDocuments, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type Entity, type FetchContext,
  type Handler, type LoadedDocument, type Logger, type PassthroughRoute, type Route, type Verification,
} from '@cacheforge/core';
import { FileLocations, type ProxyPaths } from './file-locations.js';
import { filesOfHtml, rewriteHtml } from './html-page.js';
import { expectedDigest, type IndexFile, type UrlMapper } from './index-file.js';
import { rewriteJsonApi } from './json-api.js';
import { filesOfJson, parseJsonDocument, rewriteSimpleJson } from './json-page.js';
import { isJsonPage, negotiateFormat, UPSTREAM_ACCEPT, type PageFormat } from './negotiate.js';
import { parsePath, type PypiPath } from './paths.js';

/** Rewritten pages kept in memory per remote (bytes). */
const REWRITTEN_BYTES = 64 * 1024 * 1024;
/** Parsed project listings kept for digest look-ups (pages). */
const LISTINGS = 512;

type FilePath = Extract<PypiPath, { kind: 'file' }>;

/**
 * One PyPI remote. Pages (the simple API in both serializations, the JSON API) are mutable
 * documents stored as the upstream sent them and rewritten on the way out so their file links
 * point at this remote; files and metadata files are immutable and verified against the digest
 * their project's page gives, which is looked up only when a file must be fetched.
 */
export class PypiHandler implements Handler {
  private readonly locations: FileLocations;
  private readonly rewritten = new RewrittenDocuments(REWRITTEN_BYTES);
  private readonly listings = new Map<string, ReadonlyMap<string, IndexFile>>();

  constructor(private readonly bases: ProxyPaths, private readonly log: Logger) {
    this.locations = new FileLocations(bases);
  }

  canHandle(req: ArtifactRequest): Route | undefined {
    const path = parsePath(req);
    switch (path?.kind) {
      case undefined: return undefined;
      case 'root': return { kind: 'cached', key: 'simple/', class: 'mutable', variant: negotiateFormat(header(req, 'accept'), req.search) };
      case 'project': return { kind: 'cached', key: `simple/${path.project}/`, class: 'mutable', variant: negotiateFormat(header(req, 'accept'), req.search) };
      case 'file': return { kind: 'cached', key: `${path.host}/${path.rest}${req.search}`, class: 'immutable' };
      case 'json-api': return { kind: 'cached', key: jsonApiPath(path.project, path.version), class: 'mutable' };
      // A redirect touches no cache; the route only carries it to fetch, which answers it.
      case 'redirect': return { kind: 'cached', key: req.path, class: 'mutable' };
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const path = parsePath(req);
    if (!path || route.kind !== 'cached') throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of a Python package index`);
    switch (path.kind) {
      case 'redirect':
        return { status: 301, cacheStatus: 'HIT', headers: { location: req.publicBase.href + path.location + req.search } };
      case 'root':
        return this.page(req, route, this.bases.index, undefined, ctx);
      case 'project':
        return this.page(req, route, new URL(`${path.project}/`, this.bases.index), path.project, ctx);
      case 'json-api':
        return this.page(req, route, new URL(this.bases.upstream.href + jsonApiPath(path.project, path.version)), path.project, ctx);
      case 'file': {
        const url = this.locations.upstreamUrl(path.host, path.rest, req.search);
        return ctx.pipeline.serve(req, route, { url }, { verify: this.verification(path, url) });
      }
    }
  }

  /** A page from the cache (or upstream), with its links rewritten for the base this client used. */
  private async page(req: ArtifactRequest, route: CachedRoute, url: URL, project: string | undefined, ctx: FetchContext): Promise<ArtifactResponse> {
    const format = route.variant as PageFormat | undefined;
    const accept = format ? UPSTREAM_ACCEPT[format] : 'application/json';
    const doc = await ctx.pipeline.load(route, { url, headers: { accept } });
    const base = req.publicBase.href;
    const key = `${route.key}\u0000${format ?? ''}\u0000${doc.etag}\u0000${base}`;
    let entity = this.rewritten.get(key);
    if (!entity) {
      entity = this.rewrite(doc, url, format, project, base);
      this.rewritten.set(key, entity);
    }
    return { status: 200, cacheStatus: doc.cacheStatus, headers: format ? { vary: 'Accept' } : undefined, entity };
  }

  private rewrite(doc: LoadedDocument, url: URL, format: PageFormat | undefined, project: string | undefined, base: string): Entity {
    const map = this.mapper(base, project);
    const json = format === undefined || isJsonPage(doc.contentType);
    let bytes: Buffer;
    if (format === undefined) bytes = Buffer.from(JSON.stringify(rewriteJsonApi(parseJsonDocument(doc.body, url.href), url, map)));
    // The JSON project list holds names only, no links: it goes out as stored.
    else if (json && project === undefined) bytes = doc.body;
    else if (json) bytes = Buffer.from(JSON.stringify(rewriteSimpleJson(parseJsonDocument(doc.body, url.href), url, map)));
    else bytes = Buffer.from(rewriteHtml(doc.body.toString('utf8'), url, map));
    const contentType = doc.contentType ?? (json ? (format ? 'application/vnd.pypi.simple.v1+json' : 'application/json') : 'text/html');
    return memoryEntity(bytes, { contentType, lastModified: doc.lastModified, headers: format ? { vary: 'Accept' } : undefined });
  }

  /**
   * Maps an upstream URL in a page to this remote under `base`, keeping its fragment (the hash).
   * The project list links its pages relatively (`<name>/`): PyPI's list has hundreds of
   * thousands of links, and a relative one is shorter and the same for every base.
   */
  private mapper(base: string, project: string | undefined): UrlMapper {
    return (url) => {
      const hash = url.hash;
      url.hash = '';
      const path = this.locations.proxyPath(url, project);
      if (path === undefined) return undefined;
      if (project === undefined && path.startsWith('simple/') && path.length > 'simple/'.length) return path.slice('simple/'.length) + hash;
      return base + path + hash;
    };
  }

  /**
   * A file (or its metadata file) must match the hash its project's page lists: read only on a
   * miss, right after the client read that page, so the page is normally a hit.
   */
  private verification(path: FilePath, url: string): Verification {
    const page = new URL(`${path.project}/`, this.bases.index);
    const fileUrl = new URL(path.metadata ? url.slice(0, -'.metadata'.length) : url).href;
    const name = decodeURIComponent(fileUrl.slice(fileUrl.lastIndexOf('/') + 1));
    return {
      kind: 'document',
      route: { kind: 'cached', key: `simple/${path.project}/`, class: 'mutable', variant: 'json' },
      upstream: { url: page, headers: { accept: UPSTREAM_ACCEPT.json } },
      pick: (doc) => {
        const file = this.listing(path.project, doc, page).get(fileUrl);
        if (!file) return undefined;
        if (path.metadata) {
          if (!file.metadata) throw cfError('CF_ERR_NOT_FOUND', `the index page of ${path.project} offers no metadata file for ${name}`);
          return { digests: file.metadata === true ? [] : optional(expectedDigest(file.metadata)) };
        }
        const digest = expectedDigest(file.hashes);
        if (!digest) this.log.warn({ project: path.project, file: name }, 'index page gives no sha256/sha512/sha1 for this file; only its length is verified');
        return { digests: optional(digest) };
      },
      unlisted: () => cfError('CF_ERR_NOT_FOUND', `${name} is not listed on the index page of ${path.project}`, { detail: { project: path.project } }),
    };
  }

  /** A project's files by URL, parsed once per stored version of its page. */
  private listing(project: string, doc: LoadedDocument, url: URL): ReadonlyMap<string, IndexFile> {
    const key = `${project}\u0000${doc.etag}`;
    let listing = this.listings.get(key);
    if (!listing) {
      const files = isJsonPage(doc.contentType) ? filesOfJson(parseJsonDocument(doc.body, url.href), url) : filesOfHtml(doc.body.toString('utf8'), url);
      listing = new Map(files.map((f) => [f.url, f]));
      if (this.listings.size >= LISTINGS) this.listings.delete(this.listings.keys().next().value!);
      this.listings.set(key, listing);
    }
    return listing;
  }
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

function header(req: ArtifactRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function jsonApiPath(project: string, version: string | undefined): string {
  return version === undefined ? `pypi/${project}/json` : `pypi/${project}/${encodeURIComponent(version)}/json`;
}
