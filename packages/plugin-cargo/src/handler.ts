import { createHash } from 'node:crypto';
import {
  cfError, memoryEntity, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type FetchContext, type Handler,
  type LearnedHosts, type LoadedDocument, type Logger, type PassthroughRoute, type Route, type UpstreamAuth, type Verification,
} from '@cacheforge/core';
import { indexPath } from './index-paths.js';
import { findVersion } from './index-file.js';
import { admitHost } from './learned-hosts.js';
import { clientConfig, downloadUrl, parseRegistryConfig, type RegistryConfig } from './registry-config.js';
import { describeRequest } from './url-space.js';

/** The largest index file read whole to find a version's cksum (the biggest crates.io ones are a few MiB). */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const CONFIG_ROUTE: CachedRoute = { kind: 'cached', key: 'config.json', class: 'mutable' };

/** What one cargo remote serves, from its configuration. */
export interface CargoRemote {
  readonly name: string;
  /** The sparse index's root, ending in `/`. */
  readonly upstream: URL;
  readonly allowedHosts: readonly string[];
  /** The host downloads may come from besides the upstream's own and `allowedHosts`. */
  readonly downloads?: string;
  /** The host of the web API, likewise. */
  readonly api?: string;
  /** Reads here need a token (`auth.anonymousRead` false): the served `config.json` says `auth-required`, so cargo sends it. */
  readonly authRequired?: boolean;
}

/** A parsed `config.json` and the stored version it came from. */
interface KnownConfig { readonly etag: string; readonly config: RegistryConfig }

/**
 * One cargo remote: the sparse index (`config.json` rewritten to point here, index files
 * revalidated), crate downloads stored once checked against the `cksum` of their index line, and
 * search relayed to the registry's API.
 */
export class CargoHandler implements Handler {
  /** The upstream's `config.json` as last read, so a crate hit need not read it again. */
  private known?: KnownConfig;

  constructor(
    private readonly remote: CargoRemote, private readonly hosts: LearnedHosts | undefined, private readonly log: Logger, readonly upstreamAuth?: UpstreamAuth,
  ) {}

  canHandle(req: ArtifactRequest): Route | undefined {
    const cargo = describeRequest(req, this.remote.upstream);
    switch (cargo?.kind) {
      case undefined: return undefined;
      case 'config': return CONFIG_ROUTE;
      case 'index': return indexRoute(cargo.name);
      case 'crate': return { kind: 'cached', key: `crates/${cargo.name}/${cargo.version}`, class: 'immutable' };
      case 'search': return { kind: 'passthrough' };
      case 'refused': return cargo;
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const cargo = describeRequest(req, this.remote.upstream);
    switch (cargo?.kind) {
      case 'config': return this.config(req, ctx);
      case 'index': return ctx.pipeline.serve(req, route as CachedRoute, { url: this.indexUrl(cargo.name) }, { keepHeaders: ['content-type'] });
      case 'crate': return this.crate(req, route as CachedRoute, cargo.name, cargo.version, ctx);
      case 'search': return this.search(req, ctx);
      default: throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of a cargo registry`, { remote: this.remote.name, path: req.path });
    }
  }

  /** `config.json` with `dl` and `api` pointing at this remote under the base the client used. */
  private async config(req: ArtifactRequest, ctx: FetchContext): Promise<ArtifactResponse> {
    const loaded = await ctx.pipeline.load(CONFIG_ROUTE, { url: new URL('config.json', this.remote.upstream) }, { maxBytes: 1024 * 1024 });
    const { config } = this.remember(loaded);
    const base = req.publicBase.href;
    const authRequired = this.remote.authRequired === true;
    const body = clientConfig(config, base, authRequired);
    // The served copy differs by base and by auth-required, so the ETag does too.
    const etag = `"${loaded.etag.replace(/^W\/|"/g, '')}.${createHash('sha1').update(`${base} ${authRequired}`).digest('hex').slice(0, 10)}"`;
    return { status: 200, cacheStatus: loaded.cacheStatus, entity: memoryEntity(body, { contentType: 'application/json', etag, lastModified: loaded.lastModified }) };
  }

  /**
   * A `.crate`: a hit is served as stored. A miss reads the crate's index file (through the
   * cache, usually stored already: cargo read it just before) for the sha256 the bytes must have
   * and, when the download template names it, the checksum of the URL.
   */
  private async crate(req: ArtifactRequest, route: CachedRoute, name: string, version: string, ctx: FetchContext): Promise<ArtifactResponse> {
    const { config } = await this.registryConfig(ctx);
    const provisional = downloadUrl(config.dl, { name, version });
    admitHost(provisional, { upstream: this.remote.upstream, allowedHosts: this.remote.allowedHosts, named: this.remote.downloads, option: 'downloads' }, this.hosts, this.remote.name);
    const verify: Verification = {
      kind: 'document',
      route: indexRoute(name),
      upstream: { url: this.indexUrl(name) },
      maxBytes: MAX_INDEX_BYTES,
      pick: (index) => {
        const entry = findVersion(index.body, name, version);
        if (!entry) return undefined;
        return { digests: [{ algorithm: 'sha256', hex: entry.cksum }], url: downloadUrl(config.dl, { name: entry.name, version, cksum: entry.cksum }) };
      },
      unlisted: () => cfError('CF_ERR_UPSTREAM_NOT_FOUND', `the index of ${name} lists no version ${version}`, { remote: this.remote.name, path: req.path }),
    };
    return ctx.pipeline.serve(req, route, { url: provisional }, { keepHeaders: ['content-type'], verify });
  }

  /** `cargo search`: relayed to the registry's API, never stored. */
  private async search(req: ArtifactRequest, ctx: FetchContext): Promise<ArtifactResponse> {
    const { config } = await this.registryConfig(ctx);
    if (!config.api) {
      throw cfError('CF_ERR_NOT_FOUND', `the registry at ${this.remote.upstream.href} has no web API (its config.json names no "api"), so it cannot be searched`, { remote: this.remote.name, path: req.path });
    }
    const url = new URL(`${config.api.replace(/\/+$/, '')}/api/v1/crates${req.search}`);
    admitHost(url, { upstream: this.remote.upstream, allowedHosts: this.remote.allowedHosts, named: this.remote.api, option: 'api' }, this.hosts, this.remote.name);
    return ctx.pipeline.passthrough(req, { url, headers: { accept: 'application/json' } });
  }

  private async registryConfig(ctx: FetchContext): Promise<KnownConfig> {
    if (this.known) return this.known;
    return this.remember(await ctx.pipeline.load(CONFIG_ROUTE, { url: new URL('config.json', this.remote.upstream) }, { maxBytes: 1024 * 1024 }));
  }

  private remember(loaded: LoadedDocument): KnownConfig {
    if (this.known?.etag === loaded.etag) return this.known;
    const known = { etag: loaded.etag, config: parseRegistryConfig(loaded.body, this.remote.upstream) };
    if (known.config.authRequired && !this.upstreamAuth && this.known?.config.authRequired !== true) {
      this.log.warn({ upstream: this.remote.upstream.href }, 'the registry\'s config.json says auth-required, and this remote has no token option: the registry will refuse its requests');
    }
    this.known = known;
    return known;
  }

  private indexUrl(name: string): URL {
    return new URL(indexPath(name), this.remote.upstream);
  }
}

/** A crate's index file: one key per crate, the lower-case path cargo asks for. */
function indexRoute(name: string): CachedRoute {
  return { kind: 'cached', key: indexPath(name), class: 'mutable' };
}
