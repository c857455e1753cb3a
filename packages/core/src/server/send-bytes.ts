import type { ServerResponse } from 'node:http';

/**
 * In-memory bodies are written in slices of this size. One `end()` of tens of MB costs the event
 * loop one turn of 80–130 ms (the socket takes what it can synchronously and node queues the
 * rest); a slice is well under a millisecond.
 */
export const BYTES_PIECE = 128 * 1024;

/**
 * Writes `bytes` as the whole body of `res` (headers already set): in one call when it is at most
 * {@link BYTES_PIECE}, else slice by slice, each after the last was taken ('drain') or, when the
 * socket took it at once, after the loop has run other work (`setImmediate`), so a large body
 * never holds one turn. Resolves when the body is written, or quietly when the client goes away
 * (the rest is dropped; the access log sees an incomplete response).
 */
export async function sendBytes(res: ServerResponse, bytes: Buffer): Promise<void> {
  if (bytes.length <= BYTES_PIECE) {
    res.end(bytes);
    return;
  }
  let gone = false;
  let wake = () => undefined as void;
  const onClose = () => { gone = true; wake(); };
  res.once('close', onClose);
  try {
    let at = 0;
    for (; !gone && at + BYTES_PIECE < bytes.length; at += BYTES_PIECE) {
      const taken = res.write(bytes.subarray(at, at + BYTES_PIECE));
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (taken) setImmediate(resolve);
        else res.once('drain', resolve);
      });
      res.removeListener('drain', wake);
    }
    if (!gone) await new Promise<void>((resolve) => { wake = resolve; res.end(bytes.subarray(at), resolve); });
  } finally {
    res.off('close', onClose);
  }
}
