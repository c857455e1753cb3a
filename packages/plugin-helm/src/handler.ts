import {
  cfError, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type Expectation, type FetchContext, type Handler, type LoadedDocument,
  type Logger, type PassthroughRoute, type RemoteDefinition, type Route, type UpstreamAuth, type Verification,
} from '@cacheforge/core';
import { originCredentials } from './credentials.js';
import { ChartHosts } from './hosts.js';
import { sha256Hex } from './index-listing.js';
import { IndexVersions } from './index-versions.js';
import type { HelmOptions } from './options.js';
import { acceptsGzip, ServedIndexes } from './served-index.js';
import { ChartLocations } from './url-space.js';

const INDEX_ROUTE: CachedRoute = { kind: 'cached', key: 'index.yaml', class: 'mutable' };

const PLAIN_HEADERS = { vary: 'Accept-Encoding' };
const GZIP_HEADERS = { vary: 'Accept-Encoding', 'content-encoding': 'gzip' };

/** The heap a worker reading the index may use (MiB): the decoded text and what is read of it, a few times the largest index allowed. */
function workerHeapMb(maxIndexBytes: number): number {
  return 64 + Math.ceil((4 * maxIndexBytes) / (1024 * 1024));
}

type FileRequest = { readonly upstream: string; readonly provenance: boolean };

/**
 * One helm remote: `index.yaml` is a mutable document served with its chart URLs pointing here;
 * chart archives and provenance files are immutable, and an archive is stored only once its
 * sha256 matches the `digest` its index entry gives (helm itself never checks it).
 */
export class HelmHandler implements Handler {
  readonly upstreamAuth?: UpstreamAuth;
  private readonly locations: ChartLocations;
  private readonly versions: IndexVersions;
  private readonly indexes: ServedIndexes;
  private readonly indexUpstream: { readonly url: string };
  private readonly warned = new Set<string>();

  constructor(private readonly remote: RemoteDefinition<HelmOptions>, private readonly log: Logger) {
    const allowed = remote.allowedHosts ?? [];
    this.locations = new ChartLocations(remote.upstream, new ChartHosts(remote.upstream, allowed), remote.name);
    this.versions = new IndexVersions({ upstream: remote.upstream.href, allowedHosts: allowed, remote: remote.name }, {
      maxBytes: remote.options.maxIndexBytes, heapMb: workerHeapMb(remote.options.maxIndexBytes),
    }, log);
    this.indexes = new ServedIndexes(this.versions, {
      remote: remote.name, rules: JSON.stringify([remote.upstream.href, allowed]), cacheBytes: remote.options.rewriteCacheBytes,
    }, log);
    this.indexUpstream = { url: `${remote.upstream.href}index.yaml` };
    this.upstreamAuth = originCredentials(remote.upstream, remote.options);
  }

  canHandle(req: ArtifactRequest): Route | undefined {
    const what = this.locations.describe(req);
    switch (what?.kind) {
      case undefined: return undefined;
      case 'refused': return what;
      case 'index': return INDEX_ROUTE;
      case 'file': return { kind: 'cached', key: req.path + req.search, class: 'immutable' };
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const what = this.locations.describe(req);
    if (route.kind !== 'cached' || (what?.kind !== 'index' && what?.kind !== 'file')) throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of a chart repository`);
    if (what.kind === 'index') return this.index(req, route, ctx);
    return ctx.pipeline.serve(req, route, { url: what.upstream }, { keepHeaders: ['content-type'], verify: this.verification(what) });
  }

  /** The index, stored as the upstream sent it and served rewritten (plain or gzip). */
  private async index(req: ArtifactRequest, route: CachedRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    // HEAD still needs the stored body, to rewrite it.
    const get = req.method === 'GET' ? req : Object.create(req, { method: { value: 'GET' } }) as ArtifactRequest;
    const response = await ctx.pipeline.serve(get, route, this.indexUpstream);
    if (!response.entity) throw new Error('the pipeline served index.yaml without a body');
    const gzip = acceptsGzip(req.headers['accept-encoding']);
    const entity = await this.indexes.entity(response.entity, gzip ? 'gzip' : 'identity');
    return { status: 200, cacheStatus: response.cacheStatus, headers: gzip ? GZIP_HEADERS : PLAIN_HEADERS, entity };
  }

  /** On a miss only: the index entry that lists this file gives what its bytes must be. */
  private verification(file: FileRequest): Verification {
    const chart = file.provenance ? file.upstream.slice(0, -'.prov'.length) : file.upstream;
    const url = this.locations.resolve(chart) ?? chart;
    return {
      kind: 'document', route: INDEX_ROUTE, upstream: this.indexUpstream, maxBytes: this.remote.options.maxIndexBytes,
      pick: (doc) => this.expectation(doc, url, file.provenance),
      unlisted: () => cfError('CF_ERR_UPSTREAM_NOT_FOUND', `no entry of index.yaml lists ${url}`, { remote: this.remote.name }),
    };
  }

  private expectation(doc: LoadedDocument, url: string, provenance: boolean): Expectation | undefined {
    const listed = this.versions.get(doc.etag);
    if (listed) {
      if (!listed.has(url)) return undefined;
      return provenance ? {} : this.digestOf(listed.get(url), url);
    }
    // This version of the index has not been read yet (the chart is asked before the index, or
    // the index changed just now): read it while the chart downloads, and check at the end.
    const reading = this.versions.read(doc.etag, async () => doc.body);
    reading.catch(() => undefined);
    return {
      verifier: () => ({
        update: () => undefined,
        finish: async (body) => {
          const { listed: charts } = await reading;
          if (!charts.has(url)) throw cfError('CF_ERR_UPSTREAM_NOT_FOUND', `no entry of index.yaml lists ${url}`, { remote: this.remote.name });
          const hex = provenance ? undefined : this.digestOf(charts.get(url), url).digests?.[0]?.hex;
          if (hex && hex !== body.sha256) throw new Error(`sha256 ${body.sha256} is not the digest ${hex} that index.yaml gives ${url}`);
        },
      }),
    };
  }

  private digestOf(digest: string | undefined, url: string): Expectation {
    const hex = sha256Hex(digest);
    if (hex) return { digests: [{ algorithm: 'sha256', hex }] };
    if (!this.warned.has(url)) {
      this.warned.add(url);
      this.log.warn({ remote: this.remote.name, url }, 'index.yaml gives this chart no sha256 digest; only its length is verified');
    }
    return {};
  }
}
