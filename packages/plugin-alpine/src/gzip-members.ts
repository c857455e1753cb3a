import { inflateRawSync } from 'node:zlib';

/** Reads bytes by position (a finished, not yet committed body). */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

/** One gzip member of a concatenation: where its bytes are, and what it inflates to. */
export interface GzipMember {
  readonly start: number;
  /** One past its last byte (after the 8-byte trailer). */
  readonly end: number;
  readonly inflated: Buffer;
}

const FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16;
const TRAILER = 8;
/** A signature or control member is a few KiB; install scripts can make it larger, never this. */
const MAX_MEMBER = 16 * 1024 * 1024;
const FIRST_READ = 64 * 1024;

/**
 * Finds the gzip member that starts at `start` in a body of `size` bytes, reading as little as
 * it can: the deflate stream is inflated to learn where it ends (gzip stores no length), from a
 * window that doubles until the member fits in it.
 */
export async function memberAt(read: ReadAt, size: number, start: number): Promise<GzipMember> {
  let length = Math.min(FIRST_READ, size - start);
  for (;;) {
    if (length <= 0) throw new Error(`no gzip member at byte ${start}: the file ends there`);
    const window = await read(start, length);
    const member = memberIn(window, start, length >= size - start);
    if (member) return member;
    if (length >= MAX_MEMBER) throw new Error(`the gzip member at byte ${start} is over ${MAX_MEMBER} bytes`);
    length = Math.min(length * 2, size - start, MAX_MEMBER);
  }
}

/** The member at the start of `window`, or `undefined` when the window cut it short. */
function memberIn(window: Buffer, start: number, wholeRest: boolean): GzipMember | undefined {
  const header = headerLength(window, start, wholeRest);
  if (header === undefined) return undefined;
  let result: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    result = inflateRawSync(window.subarray(header), { info: true, maxOutputLength: MAX_MEMBER }) as unknown as typeof result;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' && !wholeRest) return undefined;
    throw new Error(`the gzip member at byte ${start} does not inflate (${(err as Error).message})`);
  }
  const end = header + result.engine.bytesWritten + TRAILER;
  if (end > window.length) {
    if (wholeRest) throw new Error(`the gzip member at byte ${start} has no trailer`);
    return undefined;
  }
  return { start, end: start + end, inflated: result.buffer };
}

/** Length of the gzip header (RFC 1952 §2.3), `undefined` if the window ends inside it. */
function headerLength(b: Buffer, start: number, wholeRest: boolean): number | undefined {
  const short = () => {
    if (wholeRest) throw new Error(`the gzip header at byte ${start} is cut short`);
    return undefined;
  };
  if (b.length < 10) return short();
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) throw new Error(`no gzip member at byte ${start}`);
  const flags = b[3]!;
  let at = 10;
  if (flags & FEXTRA) {
    if (b.length < at + 2) return short();
    at += 2 + b.readUInt16LE(at);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const zero = b.indexOf(0, at);
    if (zero < 0) return short();
    at = zero + 1;
  }
  if (flags & FHCRC) at += 2;
  return at <= b.length ? at : short();
}
