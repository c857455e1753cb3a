import { createHash } from 'node:crypto';
import {
  cfError, memoryEntity, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type FetchContext, type Handler,
  type LoadedDocument, type Logger, type PassthroughRoute, type PluginCounter, type Route, type Sidecar, type Verification,
} from '@cacheforge/core';
import { parsePath, type ChecksumAlgorithm } from './paths.js';

/** The largest `maven-metadata.xml` read (Central's biggest are a few hundred KiB). */
const METADATA_MAX_BYTES = 16 * 1024 * 1024;
/** Checksums a file is verified against, in order of preference: the first the upstream publishes wins. */
const VERIFY_WITH: readonly ChecksumAlgorithm[] = ['sha512', 'sha256', 'sha1'];
/** Metadata versions remembered, to see when one changes (keys). */
const SEEN_METADATA = 4096;

/** What a handler counts; absent in unit tests that make handlers without metrics. */
export interface MavenCounters {
  readonly unverified?: PluginCounter;
}

/**
 * One Maven repository remote. Release files are immutable and verified against the checksum the
 * upstream publishes beside them; `maven-metadata.xml` is a mutable document, and its checksums are
 * computed from the copy served, so they can never disagree with it. When a metadata file changes,
 * the 404s remembered below its folder are forgotten: a version it now lists is found at once.
 */
export class MavenHandler implements Handler {
  private readonly seen = new Map<string, string>();

  constructor(private readonly upstream: URL, private readonly log: Logger, private readonly counters: MavenCounters) {}

  canHandle(req: ArtifactRequest): Route | undefined {
    const path = parsePath(req);
    switch (path?.kind) {
      case undefined: return undefined;
      case 'metadata': return metadataRoute(path.dir);
      // Answered from the metadata's route; this key is never stored.
      case 'metadata-sum': return { kind: 'cached', key: `${path.dir}maven-metadata.xml.${path.algorithm}`, class: 'mutable' };
      case 'file':
      case 'sum': return { kind: 'cached', key: path.key, class: path.mutable ? 'mutable' : 'immutable' };
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const path = parsePath(req);
    if (!path || route.kind !== 'cached') throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of a Maven repository`);
    switch (path.kind) {
      case 'metadata': {
        const doc = await this.metadata(path.dir, ctx);
        return { status: 200, cacheStatus: doc.cacheStatus, entity: memoryEntity(doc.body, { contentType: 'text/xml', lastModified: doc.lastModified }) };
      }
      case 'metadata-sum': {
        const doc = await this.metadata(path.dir, ctx);
        const hex = createHash(path.algorithm).update(doc.body).digest('hex');
        return { status: 200, cacheStatus: doc.cacheStatus, entity: memoryEntity(Buffer.from(hex), { contentType: 'text/plain', lastModified: doc.lastModified }) };
      }
      case 'sum':
        return ctx.pipeline.serve(req, route, { url: this.url(path.key) });
      case 'file':
        return this.file(req, route, path.key, path.mutable, ctx);
    }
  }

  /**
   * A file, verified before it is stored. A release whose upstream publishes no checksum is stored
   * on its length only, and counted: the sidecars were just looked up (stored, or remembered as
   * 404), so asking again on a miss costs no upstream request.
   */
  private async file(req: ArtifactRequest, route: CachedRoute, key: string, mutable: boolean, ctx: FetchContext): Promise<ArtifactResponse> {
    const sidecars = this.sidecars(key, mutable);
    const response = await ctx.pipeline.serve(req, route, { url: this.url(key) }, { verify: { kind: 'sidecar', sidecars, missing: 'length' } satisfies Verification });
    if (response.cacheStatus === 'MISS' && response.status === 200 && !mutable) {
      void this.countIfUnverified(key, sidecars, ctx);
    }
    return response;
  }

  /**
   * A snapshot's sidecars change with it: read fresh (`ttl: 0`) when its file is filled, or an
   * older stored `.sha1` would refuse the newer build.
   */
  private sidecars(key: string, mutable: boolean): Sidecar[] {
    return VERIFY_WITH.map((algorithm) => ({
      algorithm,
      route: mutable ? { kind: 'cached', key: `${key}.${algorithm}`, class: 'mutable', ttl: 0 } : { kind: 'cached', key: `${key}.${algorithm}`, class: 'immutable' },
      upstream: { url: this.url(`${key}.${algorithm}`) },
    }));
  }

  private async countIfUnverified(key: string, sidecars: readonly Sidecar[], ctx: FetchContext): Promise<void> {
    for (const sidecar of sidecars) {
      try {
        await ctx.pipeline.load(sidecar.route, sidecar.upstream, { maxBytes: 4096 });
        return;
      } catch {
        // Not published (or not reachable): try the next one.
      }
    }
    this.counters.unverified?.inc();
    this.log.warn({ file: key }, 'the upstream publishes no sha512, sha256 or sha1 for this file; only its length was verified');
  }

  /** A folder's `maven-metadata.xml`; a new version of it forgets the 404s remembered below the folder. */
  private async metadata(dir: string, ctx: FetchContext): Promise<LoadedDocument> {
    const route = metadataRoute(dir);
    const doc = await ctx.pipeline.load(route, { url: this.url(route.key) }, { maxBytes: METADATA_MAX_BYTES });
    if ((doc.cacheStatus === 'MISS' || doc.cacheStatus === 'REVALIDATED') && this.seen.get(route.key) !== doc.etag) {
      if (this.seen.size >= SEEN_METADATA) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(route.key, doc.etag);
      await ctx.pipeline.forgetNotFound(dir);
    }
    return doc;
  }

  private url(key: string): string {
    return this.upstream.href + key;
  }
}

function metadataRoute(dir: string): CachedRoute {
  return { kind: 'cached', key: `${dir}maven-metadata.xml`, class: 'mutable' };
}
