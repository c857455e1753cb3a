import type { Context } from 'koa';
import { PassThrough } from 'node:stream';
import { cfError } from '../errors/errors.js';
import type { ArtifactRequest, FetchContext } from '../contract/index.js';
import type { MountedRemote, RemoteRegistry } from '../plugin/remote-registry.js';
import type { CacheForgeConfig } from '../config/config.js';
import type { Logger } from '../util/logger.js';
import { parseRemotePath } from '../util/request-path.js';
import { publicBaseFor } from '../net/public-base.js';
import { sendArtifact } from './send.js';

/** Answers requests addressed to one remote. */
export interface RemoteDispatcher {
  /** `/<remote>/<path>`: the first path segment names the remote. */
  byPath(ctx: Context): Promise<void>;
  /**
   * A request already routed (by a plugin mount, or by its absolute-form target) to `remote`, with
   * `rawPath` below it; `publicBase`, when given, is where the client reached the remote.
   */
  to(ctx: Context, remote: string, rawPath: string, publicBase?: URL): Promise<void>;
}

/**
 * Routes requests to a remote's handler: the path is checked and decoded, the handler classifies
 * the request (`canHandle`) and answers it (`fetch`).
 */
export function remoteDispatcher(registry: RemoteRegistry, config: CacheForgeConfig, log: Logger, isShuttingDown: () => boolean): RemoteDispatcher {
  const contexts = new Map(registry.all().map((r) => [r.config.name, { pipeline: r.pipeline, log: log.child({ plugin: r.plugin.name, remote: r.config.name }) } satisfies FetchContext]));
  const allowed = new Map(registry.all().map((r) => [r.config.name, allowedMethods(r.plugin.methods)]));
  // A runtime remote (added or replaced through the API) gets its context on first use.
  const contextOf = (r: MountedRemote): FetchContext => {
    let known = contexts.get(r.config.name);
    if (!known || known.pipeline !== r.pipeline) contexts.set(r.config.name, known = { pipeline: r.pipeline, log: log.child({ plugin: r.plugin.name, remote: r.config.name }) });
    return known;
  };
  async function to(ctx: Context, name: string, rawPath: string, publicBase?: URL): Promise<void> {
    const remote = registry.get(name);
    if (!remote) throw cfError('CF_ERR_REMOTE_UNKNOWN', `no remote named ${JSON.stringify(safeName(name))}`, { op: 'dispatch' });
    ctx.state.remote = name;
    // Errors of this remote's requests, from here on, are written in its format's shape.
    if (remote.plugin.errorBody) ctx.state.errorBody = remote.plugin.errorBody;
    // A 405 of this remote's (ours or its handler's) names the methods its format takes.
    // A remote added through the API after the start has no entry yet (see RuntimeRemotes).
    const allow = allowed.get(name) ?? allowedMethods(remote.plugin.methods);
    ctx.state.allowedMethods = allow;
    // NOTE: koa's request object, not the context's delegating getters (megamorphic loads on every hit).
    const method = ctx.request.method;
    const readOnly = method === 'GET' || method === 'HEAD';
    if (!readOnly && !(remote.plugin.methods as readonly string[] | undefined)?.includes(method)) {
      throw cfError('CF_ERR_REQUEST_METHOD', `${method} is not supported on a ${remote.plugin.name} remote; use ${allow.join(', ')}`, { remote: name });
    }
    if (isShuttingDown()) throw cfError('CF_ERR_SHUTTING_DOWN', 'server is shutting down; retry on another replica', { remote: name });
    const { path, segments } = parseRemotePath(rawPath, { encodedSlash: remote.plugin.paths?.encodedSlash });
    const req = new DispatchedRequest(ctx, name, path, segments, rawPath, config, publicBase);
    const route = remote.handler.canHandle(req);
    if (!route) {
      // An empty path (`GET /npm/`) would make a message with a blank subject: say which remote's root it is.
      const message = path === ''
        ? `/${name}/ is the root of remote ${JSON.stringify(name)}: a ${remote.plugin.name} repository answers only paths below it`
        : `${path} is not part of a ${remote.plugin.name} repository's URL space (remote ${JSON.stringify(name)})`;
      throw cfError('CF_ERR_NOT_FOUND', message, { remote: name, path });
    }
    if (route.kind === 'refused') {
      const code = route.status === 403 ? 'CF_ERR_POLICY_DENIED' : route.status === 405 ? 'CF_ERR_REQUEST_METHOD' : 'CF_ERR_NOT_FOUND';
      throw cfError(code, route.reason, { remote: name, path });
    }
    if (!readOnly && route.kind !== 'passthrough') {
      // Only a relay may take a body: nothing a client sends is ever stored.
      throw cfError('CF_ERR_REQUEST_METHOD', `${method} ${path} is not supported on a proxy remote`, { remote: name, path });
    }
    const response = await remote.handler.fetch(req, route, contextOf(remote));
    await sendArtifact(ctx, response);
  }
  return {
    to,
    byPath(ctx: Context): Promise<void> {
      const raw = ctx.request.path;
      const slash = raw.indexOf('/', 1);
      const name = slash === -1 ? raw.slice(1) : raw.slice(1, slash);
      return to(ctx, name, slash === -1 ? '' : raw.slice(slash + 1));
    },
  };
}

/**
 * The request a handler sees. `publicBase` is computed on first use: only handlers that rewrite
 * documents need it, and a getter on the prototype keeps the hot path free of per-request closures.
 */
class DispatchedRequest implements ArtifactRequest {
  readonly method: ArtifactRequest['method'];
  readonly search: string;
  readonly headers: ArtifactRequest['headers'];
  private base?: URL;
  private relayed?: PassThrough;

  constructor(private readonly ctx: Context, readonly remote: string, readonly path: string, readonly segments: readonly string[],
    readonly rawPath: string, private readonly config: CacheForgeConfig, base?: URL) {
    this.base = base;
    const request = ctx.request;
    this.method = request.method as ArtifactRequest['method'];
    this.search = request.search;
    this.headers = request.headers;
  }

  /**
   * The body of a declared extra method; none for GET and HEAD. NOTE: behind a PassThrough, since
   * an upstream client destroys a body it could not send, and destroying the request itself would
   * close the client's socket before it gets its 502.
   */
  get body(): ArtifactRequest['body'] {
    if (this.method === 'GET' || this.method === 'HEAD') return undefined;
    return this.relayed ??= this.ctx.req.pipe(new PassThrough());
  }

  get publicBase(): URL {
    return this.base ??= publicBaseFor(this.ctx.req, this.remote, {
      publicUrl: this.config.server.publicUrl, trustProxy: this.config.server.trustProxy, encrypted: this.ctx.protocol === 'https',
    });
  }
}

/** The methods a remote takes: GET and HEAD, then the extra ones its format declares. */
function allowedMethods(methods: readonly string[] | undefined): readonly string[] {
  return ['GET', 'HEAD', ...(methods ?? []).filter((m) => m !== 'GET' && m !== 'HEAD')];
}

function safeName(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}
