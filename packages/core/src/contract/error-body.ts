/** An error as it may be shown to a client: code, status and the exposed message and detail. */
export interface PublicError {
  /** The Cache Forge code (`CF_ERR_*`). */
  readonly code: string;
  /** The HTTP status the core answers with (chosen by the core, not the formatter). */
  readonly status: number;
  readonly message: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** The request an error answers, as a formatter may consult it. */
export interface ErroredRequest {
  readonly method: string;
  /** The request path as the client sent it (e.g. `/v2/hub/library/busybox/manifests/latest`). */
  readonly path: string;
}

/**
 * A format's error body, for clients that parse errors in their own protocol's shape. The core's
 * error middleware still picks the status and headers; the formatter only writes the body (and may
 * add headers of its protocol).
 */
export type ErrorBodyFormatter = (error: PublicError, req: ErroredRequest) => { readonly body: unknown; readonly headers?: Readonly<Record<string, string>> };
