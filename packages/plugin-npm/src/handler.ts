import { createHash } from 'node:crypto';
import {
  cfError, memoryEntity, RewrittenDocuments, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type Entity, type FetchContext, type Handler,
  type Expectation, type RemoteDefinition, type Route,
} from '@cacheforge/core';
import { describeRequest, encodedName, ABBREVIATED, type NpmRequest } from './url-space.js';
import { expectedDigest, type Dist } from './integrity.js';
import { proxiedTarballUrl, rewriteTarballUrls, tarballFile } from './tarball-urls.js';
import type { NpmOptions } from './options.js';

/** What npm asks for a full document, and pnpm/yarn for the abbreviated one (with a fallback). */
const ACCEPT_FULL = 'application/json';
const ACCEPT_ABBREVIATED = `${ABBREVIATED}; q=1.0, application/json; q=0.8, */*`;
/** The largest package document read whole (the biggest public ones are tens of MiB). */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

type Document = { versions?: Record<string, { dist?: Dist } & Record<string, unknown>>; 'dist-tags'?: Record<string, string> };

/** One npm remote's handler: classifies the registry API, serves documents rewritten, verifies tarballs. */
export class NpmHandler implements Handler {
  private readonly auth: Readonly<Record<string, string>>;
  private readonly rewritten: RewrittenDocuments;

  constructor(private readonly remote: RemoteDefinition<NpmOptions>) {
    this.auth = remote.options.token ? { authorization: `Bearer ${remote.options.token}` } : {};
    this.rewritten = new RewrittenDocuments(remote.options.rewriteCacheBytes);
  }

  canHandle(req: ArtifactRequest): Route | undefined {
    const npm = describeRequest(req);
    if (!npm) return undefined;
    switch (npm.kind) {
      case 'relay': return { kind: 'passthrough' };
      case 'refused': return npm;
      case 'tarball': return { kind: 'cached', key: `${npm.name}/-/${npm.file}`, class: 'immutable' };
      case 'packument': return documentRoute(npm.name, npm.abbreviated);
      // Derived from the full document, which is what is cached.
      case 'version': case 'dist-tags': return documentRoute(npm.name, false);
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | { kind: 'passthrough' }, ctx: FetchContext): Promise<ArtifactResponse> {
    if (route.kind === 'passthrough') {
      return ctx.pipeline.passthrough(req, { url: this.remote.upstream.href + req.rawPath + req.search, headers: this.auth });
    }
    const npm = describeRequest(req) as Exclude<NpmRequest, { kind: 'relay' | 'refused' }>;
    switch (npm.kind) {
      case 'packument': return this.packument(req, route, npm.name, ctx);
      case 'tarball': return this.tarball(req, route, npm.name, npm.file, ctx);
      case 'version': return this.version(req, npm.name, npm.spec, ctx);
      case 'dist-tags': return this.distTags(npm.name, ctx);
    }
  }

  private documentUpstream(name: string, abbreviated: boolean) {
    return { url: this.remote.upstream.href + encodedName(name), headers: { ...this.auth, accept: abbreviated ? ACCEPT_ABBREVIATED : ACCEPT_FULL } };
  }

  /**
   * A package document, its `dist.tarball` URLs pointing back here under the client's base. The
   * stored bytes are the upstream's; the rewritten copy is kept per stored version and base.
   */
  private async packument(req: ArtifactRequest, route: CachedRoute, name: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const response = await ctx.pipeline.serve(asGet(req), route, this.documentUpstream(name, route.variant !== undefined));
    const stored = response.entity;
    if (!stored) throw new Error(`the pipeline served ${name} without a body`);
    const base = req.publicBase.href;
    // Mid-fill (a miss) the stored version has no validator yet: that one answer is rewritten and not kept.
    const key = stored.etag ? `${route.key}\u0000${route.variant ?? ''}\u0000${stored.etag}\u0000${base}` : undefined;
    // A hit on a rewritten copy needs neither the stored bytes nor a rewrite.
    let entity = key ? this.rewritten.get(key) : undefined;
    if (!entity) {
      const body = stored.bytes ?? await readAll(stored, MAX_DOCUMENT_BYTES, name);
      entity = memoryEntity(Buffer.from(rewriteTarballUrls(body.toString('utf8'), name, base)), {
        contentType: stored.contentType ?? 'application/json', lastModified: stored.lastModified, headers: { vary: 'Accept' },
        // The stored version's validator and the base: two bases never share one.
        etag: stored.etag && `"${stored.etag.replace(/^W\/|"/g, '')}.${createHash('sha1').update(base).digest('hex').slice(0, 10)}"`,
      });
      if (key) this.rewritten.set(key, entity);
    }
    return { status: 200, cacheStatus: response.cacheStatus, headers: { vary: 'Accept' }, entity };
  }

  /**
   * A tarball: a hit is served as stored. Only a miss reads the package document (the variant the
   * client itself just read: pnpm asks for tarballs with the abbreviated type), for the digest the
   * bytes must match before they are committed and for where the upstream keeps them.
   */
  private async tarball(req: ArtifactRequest, route: CachedRoute, name: string, file: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const url = `${this.remote.upstream.href}${name}/-/${encodeURIComponent(file)}`;
    const abbreviated = req.headers.accept?.includes(ABBREVIATED) ?? false;
    // A small miss reaches npm once verified (the core holds it), so a mismatch is a 502 naming it.
    return ctx.pipeline.serve(req, route, { url, headers: this.auth }, {
      keepHeaders: ['content-type'],
      verify: {
        kind: 'document', route: documentRoute(name, abbreviated), upstream: this.documentUpstream(name, abbreviated), maxBytes: MAX_DOCUMENT_BYTES,
        pick: (document) => this.tarballExpectation(document.body, name, file, ctx),
        unlisted: () => cfError('CF_ERR_UPSTREAM_NOT_FOUND', `${name} has no version whose tarball is ${file}`, { remote: this.remote.name, path: `${name}/-/${file}` }),
      },
    });
  }

  /** What the package document says of one tarball: its digest and URL; `undefined` when no version has it. */
  private tarballExpectation(body: Buffer, name: string, file: string, ctx: FetchContext): Expectation | undefined {
    for (const version of Object.values(parseDocument(body, name).versions ?? {})) {
      const dist = version?.dist;
      if (!dist?.tarball || tarballFile(dist.tarball) !== file) continue;
      const digest = expectedDigest(dist);
      if (!digest) ctx.log.warn({ name, file }, 'the package document lists no integrity or shasum for this tarball; only its length is verified');
      return { digests: digest ? [digest] : [], url: dist.tarball };
    }
    return undefined;
  }

  /** `/<name>/<version or tag>`: one version's manifest, from the full document. */
  private async version(req: ArtifactRequest, name: string, spec: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const loaded = await ctx.pipeline.load(documentRoute(name, false), this.documentUpstream(name, false), { maxBytes: MAX_DOCUMENT_BYTES });
    const document = parseDocument(loaded.body, name);
    const version = document['dist-tags']?.[spec] ?? spec;
    const manifest = Object.hasOwn(document.versions ?? {}, version) ? document.versions![version] : undefined;
    if (!manifest) throw cfError('CF_ERR_NOT_FOUND', `${name} has no version or tag ${JSON.stringify(spec)}`, { remote: this.remote.name, path: `${name}/${spec}` });
    const dist = manifest.dist?.tarball ? { ...manifest.dist, tarball: proxiedTarballUrl(req.publicBase.href, name, tarballFile(manifest.dist.tarball)) } : manifest.dist;
    return json({ ...manifest, dist }, loaded.cacheStatus);
  }

  private async distTags(name: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const loaded = await ctx.pipeline.load(documentRoute(name, false), this.documentUpstream(name, false), { maxBytes: MAX_DOCUMENT_BYTES });
    return json(parseDocument(loaded.body, name)['dist-tags'] ?? {}, loaded.cacheStatus);
  }
}

/** Full and abbreviated documents are separate variants of one key (`Vary: Accept`). */
function documentRoute(name: string, abbreviated: boolean): CachedRoute {
  return abbreviated ? { kind: 'cached', key: name, class: 'mutable', variant: 'abbreviated' } : { kind: 'cached', key: name, class: 'mutable' };
}

/** The request as the pipeline should treat a document: HEAD still needs the body to rewrite. */
function asGet(req: ArtifactRequest): ArtifactRequest {
  return req.method === 'GET' ? req : Object.create(req, { method: { value: 'GET' } }) as ArtifactRequest;
}

function parseDocument(body: Buffer, name: string): Document {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Document;
  } catch {
    // reported below
  }
  throw cfError('CF_ERR_UPSTREAM_INVALID', `the upstream's document for ${name} is not a JSON object`, { path: name });
}

async function readAll(entity: Entity, max: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await entity.open()) {
    size += (chunk as Buffer).length;
    if (size > max) throw cfError('CF_ERR_POLICY_TOO_LARGE', `the document of ${name} is larger than ${max} bytes`, { path: name });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function json(value: unknown, cacheStatus: ArtifactResponse['cacheStatus']): ArtifactResponse {
  return { status: 200, cacheStatus, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
