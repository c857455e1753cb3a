import type { UrlSpan } from './index-listing.js';

const SLICE_MS = 8;

/**
 * The index with each chart URL that `replace` maps written anew (as a double-quoted YAML
 * scalar, valid in block and flow context alike), every other byte as stored; `undefined` when
 * nothing changes. `text` is `body` decoded; spans are offsets into it, turned into byte offsets
 * as the copy goes (the same numbers for an ASCII index). Gives the event loop back every few
 * milliseconds.
 */
export async function rewriteIndex(body: Buffer, text: string, spans: readonly UrlSpan[], replace: (value: string) => string | undefined): Promise<Buffer | undefined> {
  const ascii = body.length === text.length;
  const pieces: Buffer[] = [];
  let bytePos = 0;
  let charPos = 0;
  let sliceStart = performance.now();
  for (const [i, span] of spans.entries()) {
    if (i % 512 === 511 && performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    const replacement = replace(span.value);
    if (replacement === undefined) continue;
    const start = ascii ? span.start : bytePos + Buffer.byteLength(text.slice(charPos, span.start));
    const end = ascii ? span.end : start + Buffer.byteLength(text.slice(span.start, span.end));
    pieces.push(body.subarray(ascii ? charPos : bytePos, start), Buffer.from(JSON.stringify(replacement)));
    bytePos = end;
    charPos = ascii ? end : span.end;
  }
  if (pieces.length === 0) return undefined;
  pieces.push(body.subarray(ascii ? charPos : bytePos));
  await new Promise((resolve) => setImmediate(resolve));
  return Buffer.concat(pieces);
}
