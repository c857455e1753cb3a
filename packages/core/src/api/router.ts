import type { Context } from 'koa';
import { cfError } from '../errors/errors.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { API_BASE, type ApiRoute } from './route.js';
import { compileBody, compileQuery, type InputCheck } from './validation.js';

/** Largest request body the API reads (a token request, a remote's config). */
const MAX_BODY = 256 * 1024;

interface CompiledRoute {
  readonly route: ApiRoute;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly query: InputCheck;
  readonly body?: InputCheck;
}

/**
 * Answers `/-/api/v1/…` from the route table: match the path (405 naming the methods a path
 * has), require the route's scope, check the query and the JSON body against the route's schemas
 * (400 naming the field), and send the handler's result as JSON. Every failure is a coded error,
 * so the error middleware writes it like any other.
 */
export function apiRouter(routes: readonly ApiRoute[], auth: RequestAuth): (ctx: Context) => Promise<void> {
  const compiled = routes.map(compileRoute);
  return async (ctx) => {
    const below = ctx.path.slice(API_BASE.length) || '/';
    const matches = compiled.map((c) => ({ c, m: c.pattern.exec(below) })).filter((x) => x.m !== null);
    if (matches.length === 0) throw cfError('CF_ERR_NOT_FOUND', `no API endpoint ${ctx.path}; the endpoints are listed in ${API_BASE}/openapi.json`);
    const hit = matches.find((x) => x.c.route.method === ctx.method);
    if (!hit) {
      ctx.state.allowedMethods = [...new Set(matches.map((x) => x.c.route.method))];
      throw cfError('CF_ERR_REQUEST_METHOD', `${ctx.method} is not supported on ${ctx.path}; use ${(ctx.state.allowedMethods as string[]).join(', ')}`);
    }
    const { c, m } = hit as { c: CompiledRoute; m: RegExpExecArray };
    const principal = c.route.scope === 'public' ? undefined : await auth.require(ctx, c.route.scope);
    const params: Record<string, string> = {};
    for (const [i, name] of c.names.entries()) params[name] = decodeParam(m[i + 1]!, name);
    const query = c.query('query', Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]))) as Record<string, string | undefined>;
    const body = c.body ? c.body('body', await readJson(ctx)) : undefined;
    const result = await c.route.handle({ params, query, body, principal, ctx });
    ctx.status = result.status;
    for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
    if (result.body !== undefined && ctx.method !== 'HEAD') ctx.body = result.body;
    // No caching of management answers by a proxy in between: they change with every purge.
    ctx.set('Cache-Control', 'no-store');
  };
}

function compileRoute(route: ApiRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path.split('/').map((segment) => segment.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    names.push(name);
    return route.params?.[name]?.rest ? '(.+)' : '([^/]+)';
  })).join('/');
  return {
    route, names, pattern: new RegExp(`^${source}/?$`),
    // Compiled on first use: ajv generates code per schema, which would slow every start.
    query: lazy(() => compileQuery(route.query ?? {})),
    body: route.body ? lazy(() => compileBody(route.body!)) : undefined,
  };
}

function lazy(make: () => InputCheck): InputCheck {
  let check: InputCheck | undefined;
  return (where, value) => (check ??= make())(where, value);
}

function decodeParam(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw cfError('CF_ERR_API_BAD_REQUEST', `path parameter ${name} is not valid percent-encoding`);
  }
}

/** The request's JSON body; `{}` when there is none. */
async function readJson(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw cfError('CF_ERR_API_BAD_REQUEST', `request body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(ctx.get('content-type') || 'application/json')) {
    throw cfError('CF_ERR_API_BAD_REQUEST', `request body must be JSON (Content-Type: application/json), got ${ctx.get('content-type')}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw cfError('CF_ERR_API_BAD_REQUEST', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
