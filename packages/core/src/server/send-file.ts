import type { ServerResponse } from 'node:http';
import { cfError } from '../errors/errors.js';
import type { PartialReader } from '../storage/storage.js';

const CHUNK = 1024 * 1024;
const CLOSED = Symbol('closed');
/** Idle buffers kept for reuse across responses (at most 32 MiB). */
const POOL_LIMIT = 32;
const pool: Buffer[] = [];

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(buffers: Buffer[]): void {
  for (const b of buffers) if (pool.length < POOL_LIMIT) pool.push(b);
}

/**
 * Writes bytes `[start, end]` of `source` to `res` (headers already set) through two reused
 * buffers: one is read into while the other is being written, and a buffer is read into again
 * only after its write has completed. Buffers come from a small process-wide pool. A fresh 1 MiB
 * buffer per chunk (what a read stream does) costs page faults and GC work that halve large-hit
 * throughput.
 * Resolves early, quietly, when the client goes away.
 * @throws when the source fails or ends early (the caller then destroys the socket).
 */
export async function sendFile(res: ServerResponse, source: Pick<PartialReader, 'read'>, start: number, end: number): Promise<void> {
  const length = Math.min(CHUNK, end - start + 1);
  // One buffer is enough when the body fits in it.
  const buffers = length === end - start + 1 ? [take()] : [take(), take()];
  let clean = false;
  let writeFailed: Error | undefined;
  let gone: () => void = () => undefined;
  const closed = new Promise<typeof CLOSED>((resolve) => { gone = () => resolve(CLOSED); });
  const onClose = () => { if (!res.writableFinished) gone(); };
  res.once('close', onClose);
  try {
    let writing: Promise<void | typeof CLOSED> = Promise.resolve();
    let position = start;
    for (let turn = 0; position <= end; turn = (turn + 1) % buffers.length) {
      // With one buffer (a short read on a small body), its previous write must finish first.
      if (buffers.length === 1 && await Promise.race([writing, closed]) === CLOSED) return;
      const data = await source.read(position, Math.min(length, end + 1 - position), buffers[turn]);
      if (data.length === 0) throw cfError('CF_ERR_STORAGE_BACKEND', `stored object ended at byte ${position}, before ${end + 1}`, { op: 'send.file' });
      position += data.length;
      if (await Promise.race([writing, closed]) === CLOSED) return;
      // A write that fails because the client left is the client going away (quiet, like 'close',
      // which may come later); and it must never be a rejection nobody awaits while the next read
      // is pending: Node exits on an unhandled rejection.
      writing = new Promise<void | typeof CLOSED>((resolve) => {
        res.write(data, (err) => { if (err) writeFailed = err; resolve(err ? CLOSED : undefined); });
      });
    }
    if (await Promise.race([writing, closed]) === CLOSED) return;
    clean = true;
    await Promise.race([new Promise<void>((resolve) => res.end(resolve)), closed]);
  } finally {
    res.off('close', onClose);
    // Nothing more can reach this client: make sure its socket goes (a failed write may leave it half open).
    if (writeFailed) res.destroy();
    // A buffer may still be referenced by a write that never completed: only a clean end
    // guarantees every write finished with it.
    if (clean) giveBack(buffers);
  }
}
