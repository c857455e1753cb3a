import type { z } from 'zod';
import type { Logger } from '../util/logger.js';
import type { PluginMount } from './mount.js';
import type { ErrorBodyFormatter } from './error-body.js';
import type { ExtraMethod } from './request.js';
import type { RemoteDefinition, RemoteProblem } from './remote.js';
import type { Handler, PluginContext } from './handler.js';

/**
 * The contract between the core and a format plugin. A plugin package's default export is a
 * {@link FormatPlugin}: a description of one repository format. The core loads it by package name
 * or path, checks it, validates each remote's options with its schema and asks it, per request,
 * what the request is ({@link Handler.canHandle}) and how to answer it ({@link Handler.fetch}).
 * A plugin never touches storage, metadata or the hot cache: it gets the pipeline in its context.
 */
export interface FormatPlugin<O extends object = Record<string, unknown>> {
  /** The format's name: the `type:` of a remote (`generic`, `npm`). Lowercase, `[a-z][a-z0-9-]*`. */
  readonly name: string;
  /** Semver range of `@cacheforge/core` versions this plugin works with (e.g. `^0.1.0`). */
  readonly core: string;
  /** One line for `cacheforge config check` and logs. */
  readonly description?: string;
  /**
   * Builds the schema of a remote's format-specific options, with the core's own copy of zod so a
   * plugin needs no zod of its own. Keys are merged beside the core's remote keys (`upstream`,
   * `include`, ...) and may not reuse them. Absent: the format has no options of its own.
   */
  readonly options?: (zod: typeof z) => z.ZodObject;
  /** The format's built-in classes: which paths are immutable artifacts, which mutable documents. */
  readonly classes?: FormatClasses;
  /** Remotes this plugin adds to the embedded defaults (no config file), by remote name. */
  readonly defaultRemotes?: (env: DefaultsEnvironment) => Promise<Record<string, Record<string, unknown>>> | Record<string, Record<string, unknown>>;
  /** Path rules that differ from the core's strict defaults. */
  readonly paths?: {
    /**
     * Whether `%2F` may appear inside a path segment (npm's `@scope%2fname`). Default false: the
     * core answers 400, because an encoded slash is the classic way to smuggle a path past a check.
     */
    readonly encodedSlash?: boolean;
  };
  /**
   * A root prefix served for all of this format's remotes (e.g. `/v2/` for a registry API), with
   * the rule that picks the remote per request. Absent: remotes are reached only at `/<remote>/`.
   */
  readonly mount?: PluginMount;
  /**
   * Writes error bodies in the format's own shape for requests routed to its remotes (including
   * refused methods); the core still picks the status. Absent: the core's `{errors:[...]}`.
   */
  readonly errorBody?: ErrorBodyFormatter;
  /**
   * A registry-style Bearer token flow for this format's mount when reads need a token: the core
   * serves `/-/<format>/token`, issuing short-lived signed bearers for the scopes a read allows,
   * and accepts them on the mount for those scopes only. Absent: Basic with a token, as elsewhere.
   */
  readonly bearerAuth?: BearerAuth<O>;
  /**
   * HTTP methods beyond GET and HEAD that this format classifies (npm's audit is a POST). The core
   * refuses every other method with 405 before the handler sees it; a request with one of these
   * methods may only be routed `passthrough` or `refused`.
   */
  readonly methods?: readonly ExtraMethod[];
  /**
   * The upstream of a remote of this type whose config names none (e.g. the registry the machine's
   * own client is configured for). Called at most once per load; must return an absolute http(s) URL.
   */
  readonly defaultUpstream?: (env: DefaultsEnvironment) => Promise<string> | string;
  /**
   * Hosts, besides the upstream's own and the remote's `allowedHosts`, that this remote's handler
   * fetches from, derived from its options (a format whose files live on a second host). Called
   * once per remote at start; exact names or `*.example.com`, with `:port` for any port but the scheme's default (a URL's `host`).
   */
  readonly upstreamHosts?: (remote: RemoteDefinition<O>) => readonly string[];
  /**
   * Checks rules that span all of this format's remotes (at most one marked as the default, say),
   * once their own options are valid. Each problem is reported at `remotes.<remote>.<key>` with
   * the config file's other problems, and the start stops. Pure: no I/O.
   */
  readonly checkRemotes?: (remotes: readonly RemoteDefinition<O>[]) => readonly RemoteProblem[];
  /**
   * The configuration that points this format's clients at one remote (an `.npmrc`, a
   * `pip.conf`, a command), for `/-/setup`. `target.base` is the remote's URL as the asking client
   * reaches it; `target.token` is a placeholder to write where the token goes, present only when
   * reads need one. Pure. Absent: the core shows a plain `curl` line.
   */
  readonly clientSetup?: (remote: RemoteDefinition<O>, target: SetupTarget) => readonly SetupSnippet[];
  /** Makes the handler of one configured remote. Called once per remote at start. */
  createHandler(remote: RemoteDefinition<O>, context: PluginContext): Handler;
}

/** A format's side of the Bearer token flow (pure functions; scope strings are the format's own). */
export interface BearerAuth<O extends object = Record<string, unknown>> {
  /** The 401 challenge for one mounted request, and the scope it needs (absent: any valid bearer). */
  challenge(req: AuthChallengeRequest<O>): { readonly header: string; readonly scope?: string };
  /**
   * What a token with `read` may be granted of an asked scope (pull of pull,push), and the remote
   * the scope's name routes to (used when the token request's `service` names no remote, as after
   * a ping); undefined: nothing.
   */
  readScope(asked: string, remotes: readonly RemoteDefinition<O>[]): { readonly scope: string; readonly remote?: string } | undefined;
}

/** What {@link BearerAuth.challenge} may consult: the public base URL, the routed remote, the path below the mount prefix as the client sent it. */
export interface AuthChallengeRequest<O extends object = Record<string, unknown>> {
  readonly base: string;
  readonly remote?: RemoteDefinition<O>;
  readonly rawPath: string;
}

/** Where a client is to be pointed: the remote's base URL, and the token placeholder when reads need one. */
export interface SetupTarget {
  readonly base: URL;
  readonly token?: string;
}

/** One client's configuration: what it is for, the file it goes in (absent for a command), its text. */
export interface SetupSnippet {
  readonly client: string;
  readonly file?: string;
  readonly text: string;
}

/** What a plugin's `defaultRemotes` may consult to pick defaults (e.g. the machine's npm registry). */
export interface DefaultsEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /**
   * True when `url` reaches this Cache Forge's own listen address (a client config that points
   * at the proxy, such as `registry=` in `~/.npmrc`): a default upstream must never be one, or
   * every miss would loop until it timed out. Absent when the port is not known before start (0).
   */
  readonly pointsAtSelf?: (url: URL) => boolean;
}

/** Classes a format declares; the remote's config patterns take precedence over them. */
export interface FormatClasses {
  /** Regexes (on the path below the remote) of immutable artifacts: fetched once, kept forever. */
  readonly immutable?: readonly string[];
  /** Regexes of mutable documents: revalidated after their TTL. */
  readonly mutable?: readonly string[];
  /** The class of a path matched by nothing. Default `mutable` (always correct, only slower). */
  readonly fallback?: 'immutable' | 'mutable';
  /** Default TTLs in milliseconds: `mutable` (default 10 min), `negative` (default 1 min). */
  readonly ttl?: { readonly mutable?: number; readonly negative?: number };
}

/** Identity helper that gives a plugin's default export its types. */
export function definePlugin<O extends object>(plugin: FormatPlugin<O>): FormatPlugin<O> {
  return plugin;
}
