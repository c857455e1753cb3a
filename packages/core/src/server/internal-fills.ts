import { pipeline } from 'node:stream/promises';
import type Koa from 'koa';
import { cfError } from '../errors/errors.js';
import type { FillDirectory } from '../pipeline/replica/fill-directory.js';
import { FILLS_PATH, SECRET_HEADER, secretMatches } from '../pipeline/replica/fill-source.js';
import { META_HEADER } from '../pipeline/replica/replica-sharing.js';

/**
 * `GET /-/internal/fills/<id>`: a fill this replica runs, streamed to another replica as it
 * arrives. The fill's reader holds the last byte until the bytes are verified and fails when the
 * fill does; the connection is then destroyed, so the other side never sees a short clean end.
 * Only a caller presenting `cluster.secret` gets anything (compared in constant time).
 */
export function internalFills(directory: FillDirectory, secret: string): Koa.Middleware {
  return async (ctx) => {
    const given = ctx.get(SECRET_HEADER);
    if (!given) throw cfError('CF_ERR_AUTH_REQUIRED', 'the cluster secret is required');
    if (!secretMatches(given, secret)) throw cfError('CF_ERR_AUTH_FORBIDDEN', 'the cluster secret does not match');
    if (ctx.method !== 'GET') throw cfError('CF_ERR_REQUEST_METHOD', 'only GET');
    const filling = directory.get(decodeURIComponent(ctx.path.slice(FILLS_PATH.length)));
    if (!filling) throw cfError('CF_ERR_NOT_FOUND', 'no such fill here');
    if (filling.fill.state === 'failed') {
      ctx.status = 410;
      ctx.body = { error: 'the fill failed' };
      return;
    }
    const reader = await filling.fill.open();
    const size = filling.fill.size;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', [META_HEADER]: Buffer.from(JSON.stringify(filling.meta)).toString('base64url') };
    if (size !== undefined) headers['content-length'] = String(size);
    ctx.status = 200; // for the access log and metrics: the response is written here, not by koa
    ctx.respond = false;
    ctx.res.writeHead(200, headers);
    // A broken fill destroys the response (pipeline does), which breaks the connection.
    await pipeline(reader, ctx.res).catch(() => { ctx.res.destroy(); });
  };
}
