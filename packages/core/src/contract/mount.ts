import type { IncomingHttpHeaders } from 'node:http';
import type { RemoteDefinition } from './remote.js';

/**
 * A root path prefix a format claims for all of its remotes, for protocols whose clients cannot
 * put a remote name first (a registry API that must live at `/v2/`). The core hands every request
 * under the prefix to {@link PluginMount.route}, which names the remote by the format's own rules
 * (a path segment, a query parameter, a default remote) and the path below that remote.
 */
export interface PluginMount {
  /** The claimed prefix: starts and ends with `/`, e.g. `/v2/`. Checked before remote names. */
  readonly prefix: string;
  /** Picks the remote (or answers directly) for one request under the prefix. Pure: no I/O. */
  route(req: MountRequest, remotes: readonly RemoteDefinition<Record<string, unknown>>[]): MountTarget;
}

/** A request under a mount's prefix, before any remote is chosen. */
export interface MountRequest {
  readonly method: string;
  /** The raw (percent-encoded) path below the prefix, without a leading `/`. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/** Where a mounted request goes. */
export type MountTarget =
  /**
   * Dispatch to `remote` as if the client had asked for `/<remote>/<rawPath>`; `headers` are added
   * to the answer (e.g. a header telling the client how it was routed).
   */
  | { readonly kind: 'remote'; readonly remote: string; readonly rawPath: string; readonly headers?: Readonly<Record<string, string>> }
  /** Answer at once without any remote (a protocol ping). */
  | { readonly kind: 'answer'; readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }
  /** No remote serves this: the core answers 404 (`CF_ERR_REMOTE_UNKNOWN`) in the format's error body. */
  | { readonly kind: 'unknown'; readonly reason: string };
