import { redactText } from '../util/redact.js';

/**
 * Exit codes of the commands that talk to a running server. Scripts may rely on them: 0 done, 1
 * the server failed or could not be reached, 2 bad usage, 3 refused (no token, bad token, or a
 * token without the scope), 4 no such remote, artifact or token, 5 conflict (a name in use).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, notFound: 4, conflict: 5 } as const;

/** A management API answer that is not a success, as the CLI reports it. */
export class ApiFailure extends Error {
  constructor(message: string, readonly exitCode: number) { super(message); }
}

/** Calls the management API of the server at `url` with `token`. */
export class ApiClient {
  constructor(readonly url: string, private readonly token: string | undefined) {}

  /** A plain-text endpoint (`/-/setup`). */
  async text(path: string): Promise<string> {
    return this.call<string>('GET', path, undefined, true);
  }

  async call<T>(method: string, path: string, body?: unknown, asText = false): Promise<T> {
    let res: Response;
    const target = new URL(path.replace(/^\//, ''), this.url.endsWith('/') ? this.url : `${this.url}/`);
    try {
      res = await fetch(target, {
        method,
        headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new ApiFailure(`cannot reach ${redactText(this.url)}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message} (set --url or CACHEFORGE_URL)`, EXIT.failed);
    }
    const text = await res.text();
    if (res.ok) return (asText ? text : text ? JSON.parse(text) : undefined) as T;
    let message = `HTTP ${res.status}`;
    try {
      const e = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors[0]!;
      message = `${e.code}: ${e.message}`;
    } catch { /* not our error shape */ }
    const code = res.status === 401 || res.status === 403 ? EXIT.refused : res.status === 404 ? EXIT.notFound : res.status === 409 ? EXIT.conflict : res.status === 400 ? EXIT.usage : EXIT.failed;
    if (res.status === 401 && !this.token) message += ' (set --token or CACHEFORGE_TOKEN)';
    throw new ApiFailure(message, code);
  }
}
