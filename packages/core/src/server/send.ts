import type { Context } from 'koa';
import { cfError } from '../errors/errors.js';
import type { ArtifactResponse, Entity } from '../contract/index.js';
import { evaluateRange, notModified } from './http-conditions.js';
import { sendFile } from './send-file.js';
import { sendByteranges } from './byteranges.js';
import { sendBytes, BYTES_PIECE } from './send-bytes.js';

/** True when a request asks for the whole body with no condition. */
function plainGet(headers: Record<string, string | string[] | undefined>): boolean {
  return headers.range === undefined && headers['if-none-match'] === undefined && headers['if-modified-since'] === undefined;
}

/** Whether every header of `extra` is already in `block` with the same value. */
function covers(block: Readonly<Record<string, string>>, extra: Readonly<Record<string, string>> | undefined): boolean {
  for (const name in extra) if (block[name] !== extra[name]) return false;
  return true;
}

/** Answers 302 to where the storage serves the bytes itself, when it gives a URL (ranges are the storage's job then). */
async function redirected(ctx: Context, locate: () => Promise<string | undefined>): Promise<boolean> {
  const url = await locate();
  if (!url) return false;
  for (const name of ['ETag', 'Last-Modified', 'Accept-Ranges', 'Content-Type']) ctx.remove(name);
  ctx.status = 302;
  ctx.set('Location', url);
  // The URL expires: neither clients nor proxies may keep the redirect.
  ctx.set('Cache-Control', 'no-store');
  ctx.body = '';
  return true;
}

/**
 * The cache status header as it goes on the wire, on every path (hot block, koa, errors): Node
 * sends a name as it is given, so one spelling has to be chosen in one place.
 */
export const CACHE_STATUS_HEADER = 'X-Cache-Status';

/** Bodies at least this large go through {@link sendFile} instead of a stream. */
const SEND_FILE_MIN = 256 * 1024;

/**
 * Writes a handler's response: headers, `X-Cache-Status`, and for an entity the conditional
 * (304), range (206, multipart/byteranges for several ranges, 416) and HEAD handling, so no
 * handler repeats it.
 */
export async function sendArtifact(ctx: Context, response: ArtifactResponse): Promise<void> {
  const hot = sentHot(ctx, response);
  if (hot === true) return;
  if (hot) return hot;
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers ?? {})) ctx.set(name, value);
  ctx.set(CACHE_STATUS_HEADER, response.cacheStatus);
  ctx.state.cacheStatus = response.cacheStatus;

  const entity = response.entity;
  if (!entity) return sendPlain(ctx, response);
  setEntityHeaders(ctx, entity);
  const headers = ctx.headers as Record<string, string | undefined>;
  if (notModified({ 'if-none-match': headers['if-none-match'], 'if-modified-since': headers['if-modified-since'] }, entity.etag, entity.lastModified)) {
    ctx.status = 304;
    return;
  }
  if (ctx.method === 'GET' && entity.locate && await redirected(ctx, entity.locate)) return;

  const span = chooseSpan(ctx, entity, response.cacheStatus);
  if (span.kind === 'multipart') return sendByteranges(ctx, entity, span.ranges);
  if (ctx.method === 'HEAD') {
    if (span.end !== undefined) ctx.set('Content-Length', String(span.end - span.start + 1));
    return;
  }
  await sendEntityBody(ctx, entity, span);
}

/**
 * The hot path: a small stored object, whole, unconditional. Written in one call with its
 * precomputed headers; koa's per-header bookkeeping would cost more than the rest of the hit.
 * A large body is written in slices ({@link sendBytes}), pending until it is; a small one at once
 * (true), with no promise on the path of a small hit.
 */
function sentHot(ctx: Context, response: ArtifactResponse): boolean | Promise<void> {
  const hot = response.entity;
  const req = ctx.req; // not the context's delegating getters: megamorphic loads on every hit
  if (!(hot?.bytes && hot.headerBlock && response.status === 200 && req.method === 'GET' && plainGet(req.headers))) return false;
  ctx.state.cacheStatus = response.cacheStatus;
  ctx.response.status = 200;
  ctx.respond = false;
  // A handler may add headers of its own (a digest header); the precomputed block has only the stored ones.
  const block = covers(hot.headerBlock, response.headers) ? hot.headerBlock : { ...hot.headerBlock, ...response.headers };
  ctx.res.writeHead(200, response.cacheStatus === 'HIT' ? block : { ...block, [CACHE_STATUS_HEADER]: response.cacheStatus });
  // writeHead with a header object keeps no headers on the response: the access log learns the body's size here.
  ctx.state.bodyBytes = hot.bytes.length;
  if (hot.bytes.length > BYTES_PIECE) return sendBytes(ctx.res, hot.bytes);
  ctx.res.end(hot.bytes);
  return true;
}

/** Writes a large in-memory body past koa (whose `end()` of it would hold one long turn), headers as koa set them. */
async function sendBytesHere(ctx: Context, bytes: Buffer): Promise<void> {
  ctx.respond = false;
  ctx.res.statusCode = ctx.status;
  ctx.res.setHeader('Content-Length', String(bytes.length));
  ctx.state.bodyBytes = bytes.length;
  await sendBytes(ctx.res, bytes);
}

/** A response that is not a stored entity (a relayed body, a redirect, a generated document). */
function sendPlain(ctx: Context, response: ArtifactResponse): void {
  if (response.body !== undefined && ctx.method !== 'HEAD') ctx.body = response.body;
  else if (ctx.method === 'HEAD' && typeof response.body === 'object' && response.body && 'destroy' in response.body) response.body.destroy();
}

function setEntityHeaders(ctx: Context, entity: Entity): void {
  ctx.set('Content-Type', entity.contentType ?? 'application/octet-stream');
  if (entity.etag) ctx.set('ETag', entity.etag);
  if (entity.lastModified) ctx.set('Last-Modified', entity.lastModified.toUTCString());
  if (entity.size !== undefined) ctx.set('Accept-Ranges', 'bytes');
}

/** The bytes to send, inclusive; `end` unknown when the size is. */
interface Span { readonly kind: 'span'; readonly start: number; readonly end: number | undefined }
type Ranges = Extract<ReturnType<typeof evaluateRange>, { kind: 'multipart' }>;

/**
 * Applies the request's Range (GET only): sets 206 and Content-Range for one range, passes several
 * on for multipart/byteranges, throws 416 for none satisfiable.
 */
function chooseSpan(ctx: Context, entity: Entity, cacheStatus: string): Span | Ranges {
  const whole: Span = { kind: 'span', start: 0, end: entity.size === undefined ? undefined : entity.size - 1 };
  if (entity.size === undefined || ctx.method !== 'GET') return whole;
  const headers = ctx.headers as Record<string, string | undefined>;
  const range = evaluateRange(headers.range, headers['if-range'], entity.size, entity.etag, entity.lastModified);
  if (range.kind === 'unsatisfiable') {
    throw cfError('CF_ERR_REQUEST_RANGE', `range ${headers.range} is outside the ${entity.size} bytes`, { headers: { 'content-range': `bytes */${entity.size}`, 'x-cache-status': cacheStatus } });
  }
  if (range.kind === 'multipart') return range;
  if (range.kind !== 'partial') return whole;
  ctx.status = 206;
  ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${entity.size}`);
  return { kind: 'span', start: range.start, end: range.end };
}

/** The body of a GET: from memory, by sendFile for a large stored blob, else as a stream. */
async function sendEntityBody(ctx: Context, entity: Entity, { start, end }: Span): Promise<void> {
  const partial = ctx.status === 206;
  if (entity.bytes) {
    const bytes = partial ? entity.bytes.subarray(start, end! + 1) : entity.bytes;
    if (bytes.length <= BYTES_PIECE) ctx.body = bytes;
    else await sendBytesHere(ctx, bytes);
    return;
  }
  if (entity.openReader && end !== undefined && end - start + 1 >= SEND_FILE_MIN) {
    // Opened before any header is written, so a missing blob is still an error response.
    const reader = await entity.openReader();
    try {
      ctx.respond = false;
      ctx.res.statusCode = ctx.status;
      // The headers koa set are already on `ctx.res` (with their case; copying koa's lowercased view back would lose it).
      ctx.res.setHeader('Content-Length', String(end - start + 1));
      await sendFile(ctx.res, reader, start, end);
      ctx.state.bodyBytes = end - start + 1;
    } finally {
      await reader.close();
    }
    return;
  }
  const stream = await entity.open(partial ? { start, end: end! } : undefined);
  ctx.body = stream;
  if (end !== undefined) ctx.length = end - start + 1;
}
