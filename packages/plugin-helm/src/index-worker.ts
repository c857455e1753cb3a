import { parentPort, workerData } from 'node:worker_threads';
import { buildIndex } from './index-build.js';
import { ChartHosts } from './hosts.js';
import { ChartLocations } from './url-space.js';
import type { JobSettings, WorkerMessage } from './index-job.js';

/**
 * The worker thread that reads one index (see index-job.ts): it takes the stored bytes in
 * chunks, builds the index, and sends back the rewritten copies (their memory moved, not copied)
 * and the listed archives in batches, so no message costs the event loop more than a few ms.
 */
const settings = workerData as JobSettings;
const upstream = new URL(settings.upstream);
const locations = new ChartLocations(upstream, new ChartHosts(upstream, settings.allowedHosts), settings.remote);
const chunks: Buffer[] = [];
const port = parentPort!;
const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (message: { chunk?: Uint8Array; end?: true }) => {
  if (message.chunk) chunks.push(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
  if (message.end) void finish();
});

async function finish(): Promise<void> {
  try {
    const built = await buildIndex(Buffer.concat(chunks), locations);
    chunks.length = 0;
    let batch: (string | null)[] = [];
    for (const [url, digest] of built.listed) {
      batch.push(url, digest ?? null);
      if (batch.length >= 2 * settings.batch) { send({ kind: 'listed', pairs: batch }); batch = []; }
    }
    if (batch.length > 0) send({ kind: 'listed', pairs: batch });
    const plain = own(built.plain);
    const gzip = own(built.gzip);
    send({ kind: 'done', plain, gzip, blockedHosts: built.blockedHosts, figures: built.figures }, [plain.buffer as ArrayBuffer, gzip.buffer as ArrayBuffer]);
  } catch (err) {
    send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

/** The bytes in an ArrayBuffer of their own, which can be moved to the main thread. */
function own(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
