import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { cfError } from '../errors/errors.js';
import type { Entity } from '../contract/index.js';
import type { ByteSpan } from './http-conditions.js';

/** One part of a `multipart/byteranges` body: its header block and the bytes it carries. */
export interface BytePart extends ByteSpan {
  /** The delimiter line and the part's Content-Type and Content-Range, up to the blank line. */
  readonly head: Buffer;
}

/** A `multipart/byteranges` body laid out before anything is sent, so its length is known. */
export interface ByterangesPlan {
  readonly boundary: string;
  readonly parts: readonly BytePart[];
  /** The close delimiter. */
  readonly tail: Buffer;
  /** Every byte of the body: heads, parts and tail. */
  readonly length: number;
}

/**
 * Lays out the parts of `ranges` of a body of `size` bytes of type `partType` (RFC 9110 §14.6).
 * The boundary is random: a fixed one could occur in the bytes, which would split a part for the
 * client.
 */
export function planByteranges(ranges: readonly ByteSpan[], size: number, partType: string, boundary = randomBytes(16).toString('hex')): ByterangesPlan {
  let length = 0;
  const parts = ranges.map((range, i) => {
    // The CRLF before a delimiter belongs to the delimiter; the first one needs none.
    const head = Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: bytes ${range.start}-${range.end}/${size}\r\n\r\n`, 'latin1');
    length += head.length + range.end - range.start + 1;
    return { ...range, head };
  });
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  return { boundary, parts, tail, length: length + tail.length };
}

/**
 * Answers `206 multipart/byteranges` with `ranges` of `entity` (GET only; the entity's headers
 * are already set). The parts come from the bytes in memory, else each from a ranged open of the
 * stored (or still arriving) bytes, one at a time. Content-Length is the plan's, so a client sees
 * a short body as cut, never as complete.
 */
export async function sendByteranges(ctx: Context, entity: Entity, ranges: readonly ByteSpan[]): Promise<void> {
  const size = entity.size!;
  const plan = planByteranges(ranges, size, ctx.response.get('Content-Type') || 'application/octet-stream');
  ctx.status = 206;
  ctx.remove('Content-Range');
  ctx.set('Content-Type', `multipart/byteranges; boundary=${plan.boundary}`);
  if (entity.bytes) {
    const bytes = entity.bytes;
    ctx.body = Buffer.concat([...plan.parts.flatMap((p) => [p.head, bytes.subarray(p.start, p.end + 1)]), plan.tail], plan.length);
    return;
  }
  // The first part is opened before any header is written, so a missing blob is still an error response.
  const first = await entity.open(plan.parts[0]!);
  const body = Readable.from(partsOf(plan, entity, first), { objectMode: false });
  // A body destroyed before it was first read never runs the generator, nor its cleanup.
  body.once('close', () => first.destroy());
  ctx.body = body;
  ctx.length = plan.length;
}

async function* partsOf(plan: ByterangesPlan, entity: Entity, first: Readable): AsyncGenerator<Buffer> {
  for (const [i, part] of plan.parts.entries()) {
    yield part.head;
    const stream = i === 0 ? first : await entity.open(part);
    let sent = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      sent += chunk.length;
      yield chunk;
    }
    const expected = part.end - part.start + 1;
    if (sent !== expected) {
      throw cfError('CF_ERR_STORAGE_BACKEND', `range ${part.start}-${part.end} of a stored object gave ${sent} bytes, not ${expected}`, { op: 'send.byteranges' });
    }
  }
  yield plan.tail;
}
