import type { Readable } from 'node:stream';
import {
  cfError, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type Expectation, type FetchContext, type Handler,
  type LoadedDocument, type Logger, type PassthroughRoute, type PluginCounter, type Route, type Verification,
} from '@cacheforge/core';
import { mirrorDocument, type MirrorKind } from './mirrors.js';
import { PackageVerifier } from './package-verifier.js';
import { parsePath } from './paths.js';
import { PrimaryIndexes } from './primary-indexes.js';
import { parseRepomd, type RepomdEntry } from './repomd.js';

/** Package names already logged as listed by no primary index (each is logged once). */
const UNLISTED_LOGGED = 10_000;

/**
 * One rpm-md remote. `repomd.xml` is a mutable document; its signature is stored per version of
 * it, so a new `repomd.xml` never goes out with the old one's signature. Checksum-named metadata
 * is verified against `repomd.xml`, packages against the primary index, both only on a miss.
 */
export class RpmHandler implements Handler {
  private readonly indexes: PrimaryIndexes;
  private readonly unlistedLogged = new Set<string>();

  constructor(private readonly upstream: URL, private readonly log: Logger, private readonly unlisted?: PluginCounter) {
    this.indexes = new PrimaryIndexes(log);
  }

  canHandle(req: ArtifactRequest): Route | undefined {
    const path = parsePath(req.path);
    switch (path?.kind) {
      case undefined: return undefined;
      case 'hashed': case 'package': return { kind: 'cached', key: req.path, class: 'immutable' };
      case 'metalink': case 'mirrorlist': return { kind: 'cached', key: `${req.path}${req.search}`, class: 'mutable' };
      default: return { kind: 'cached', key: req.path + req.search, class: 'mutable' };
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const path = parsePath(req.path);
    if (!path || route.kind !== 'cached') throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of an rpm repository`);
    const url = this.upstream.href + req.rawPath + req.search;
    switch (path.kind) {
      case 'signature': {
        // Keyed by the repomd.xml it signs: revalidating one revalidates the pair.
        const repomd = await this.repomd(path.root, ctx);
        return ctx.pipeline.serve(req, { ...route, variant: repomd.etag }, { url });
      }
      case 'hashed':
        return ctx.pipeline.serve(req, route, { url }, { verify: this.metadataVerification(path.root, path.href) });
      case 'package':
        return ctx.pipeline.serve(req, route, { url }, { verify: this.packageVerification(req, path.roots, ctx) });
      case 'metalink': case 'mirrorlist':
        return this.mirror(req, path.kind, ctx);
      default:
        return ctx.pipeline.serve(req, route, { url });
    }
  }

  private repomdRoute(root: string): CachedRoute {
    return { kind: 'cached', key: `${root}repodata/repomd.xml`, class: 'mutable' };
  }

  private repomd(root: string, ctx: FetchContext): Promise<LoadedDocument> {
    return ctx.pipeline.load(this.repomdRoute(root), { url: `${this.upstream.href}${encodePath(root)}repodata/repomd.xml` });
  }

  /** A checksum-named metadata file must match the checksum and size its repomd.xml gives. */
  private metadataVerification(root: string, href: string): Verification {
    return {
      kind: 'document',
      route: this.repomdRoute(root),
      upstream: { url: `${this.upstream.href}${encodePath(root)}repodata/repomd.xml` },
      maxBytes: 4 * 1024 * 1024,
      pick: (doc) => {
        const entry = parseRepomd(doc.body.toString('utf8')).find((e) => e.href === href);
        return entry ? { digests: entry.digest ? [entry.digest] : [], size: entry.size } : undefined;
      },
    };
  }

  /** A package must match its primary index entry; the index is read only once the body is whole. */
  private packageVerification(req: ArtifactRequest, roots: readonly string[], ctx: FetchContext): Verification {
    return { kind: 'known', verifier: () => new PackageVerifier(() => this.lookup(req, roots, ctx)) };
  }

  private async lookup(req: ArtifactRequest, roots: readonly string[], ctx: FetchContext): Promise<Expectation | undefined> {
    for (const root of roots) {
      const primary = await this.primaryOf(root, ctx);
      if (!primary) continue;
      try {
        const index = await this.indexes.get(root, primary, () => this.openPrimary(req, root, primary, ctx));
        const found = index.get(req.path.slice(root.length));
        if (found) return found;
      } catch (err) {
        this.log.warn({ root, primary: primary.href, err: (err as Error).message }, 'cannot read the primary index; packages of this repository are checked by length only');
      }
      break;
    }
    this.unlisted?.inc();
    if (!this.unlistedLogged.has(req.path) && this.unlistedLogged.size < UNLISTED_LOGGED) {
      this.unlistedLogged.add(req.path);
      this.log.warn({ path: req.path }, 'no cached primary index lists this package; it is checked by length only');
    }
    return undefined;
  }

  /** The primary entry of the repository rooted at `root`, or `undefined` when there is none. */
  private async primaryOf(root: string, ctx: FetchContext): Promise<RepomdEntry | undefined> {
    try {
      const repomd = await this.repomd(root, ctx);
      return parseRepomd(repomd.body.toString('utf8')).find((e) => e.type === 'primary');
    } catch {
      return undefined;
    }
  }

  /** The primary file's bytes, through the pipeline (verified against repomd.xml), as a stream. */
  private async openPrimary(req: ArtifactRequest, root: string, primary: RepomdEntry, ctx: FetchContext): Promise<Readable> {
    const path = root + primary.href;
    const inner: ArtifactRequest = { ...req, method: 'GET', path, segments: path.split('/'), rawPath: encodePath(path), search: '', headers: {} };
    const res = await ctx.pipeline.serve(inner, { kind: 'cached', key: path, class: 'immutable' }, { url: this.upstream.href + encodePath(path) }, {
      verify: { kind: 'known', digests: primary.digest ? [primary.digest] : [], size: primary.size },
    });
    if (!res.entity) throw cfError('CF_ERR_UPSTREAM_INVALID', `no body for ${path}`);
    return res.entity.open();
  }

  private async mirror(req: ArtifactRequest, kind: MirrorKind, ctx: FetchContext): Promise<ArtifactResponse> {
    const doc = await mirrorDocument(kind, req, (root) => this.repomd(root, ctx));
    return { status: 200, cacheStatus: doc.cacheStatus, headers: { 'content-type': doc.contentType, 'cache-control': 'no-store' }, body: doc.body };
  }
}

/** Percent-encodes each segment of a decoded path (the upstream gets what a client would send). */
export function encodePath(path: string): string {
  return path.split('/').map((s) => encodeURIComponent(s).replace(/%40/g, '@').replace(/%2B/g, '+')).join('/');
}
