import type { Context } from 'koa';
import type { Principal, Scope } from '../auth/scopes.js';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1), as plain data. */
export type JsonSchema = Record<string, unknown>;

/** Where the API lives; every route's path is below it. */
export const API_BASE = '/-/api/v1';

export type ApiMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** One parameter of a route's path or query. */
export interface ApiParameter {
  readonly description: string;
  readonly schema: JsonSchema;
  readonly required?: boolean;
  /** A path parameter that may span segments (an artifact path); only the last one may. */
  readonly rest?: boolean;
}

/** One documented response of a route. */
export interface ApiResponseSpec {
  readonly description: string;
  /** The JSON body's schema; absent = no body (204, HEAD). */
  readonly schema?: JsonSchema;
  /** Its content type when not JSON (`text/plain` for setup snippets). */
  readonly contentType?: string;
}

/** What a handler gets: the decoded parameters, the validated body, and who asked. */
export interface ApiCall {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  readonly principal?: Principal;
  readonly ctx: Context;
}

/** What a handler answers: the status (one the route documents) and its body. */
export interface ApiResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One route of the management API. The router matches, authorizes and validates requests from
 * these, and the OpenAPI document is built from the same list, so the two cannot disagree.
 */
export interface ApiRoute {
  readonly method: ApiMethod;
  /** OpenAPI path template below {@link API_BASE}: `/remotes/{name}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** The scope a token needs; `public` = no token (the OpenAPI document itself). */
  readonly scope: Scope | 'public';
  readonly params?: Readonly<Record<string, ApiParameter>>;
  readonly query?: Readonly<Record<string, ApiParameter>>;
  readonly body?: JsonSchema;
  /** Every status the route answers with, besides the common errors (400, 401, 403, 404). */
  readonly responses: Readonly<Record<number, ApiResponseSpec>>;
  handle(call: ApiCall): Promise<ApiResult> | ApiResult;
}
