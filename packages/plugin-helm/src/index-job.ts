import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cfError } from '@cacheforge/core';
import { buildIndex, type BuiltIndex } from './index-build.js';
import { ChartHosts } from './hosts.js';
import { ChartLocations } from './url-space.js';

/** What the worker is told of the remote (plain data: a worker shares no objects). */
export interface JobSettings {
  readonly upstream: string;
  readonly allowedHosts: readonly string[];
  readonly remote: string;
  /** Listed archives per message. */
  readonly batch: number;
}

/** The worker's messages to the main thread. */
export type WorkerMessage =
  | { readonly kind: 'listed'; readonly pairs: readonly (string | null)[] }
  | { readonly kind: 'done'; readonly plain: Uint8Array; readonly gzip: Uint8Array; readonly blockedHosts: readonly string[]; readonly figures: BuiltIndex['figures'] }
  | { readonly kind: 'failed'; readonly message: string };

/** An index up to this size is read on the event loop (its turns a few ms each): cheaper than starting a worker. */
export const INLINE_MAX = 2 * 1024 * 1024;

/** Workers reading at once in this process; more wait (each is a core's worth of work). */
const WORKERS = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<() => void> {
  if (running >= WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  return () => { running -= 1; waiting.shift()?.(); };
}

/** The stored index as handed to the worker: pieces of at most this many bytes per message. */
const PIECE = 1024 * 1024;
const BATCH = 2048;

const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCES ? './index-worker.ts' : './index-worker.js', import.meta.url);

/**
 * Run from the sources (the tests, through tsx) the worker is the .ts file beside this one, and
 * Node 20 does not apply the main thread's `--import` loader to a worker: it registers tsx itself.
 */
function startWorker(workerData: JobSettings, heapMb: number): Worker {
  const options = { workerData, resourceLimits: { maxOldGenerationSizeMb: heapMb } };
  if (!FROM_SOURCES) return new Worker(WORKER, options);
  // The ESM entry of tsx's API, found from here (import.meta.resolve is not there under every loader).
  const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER.href)}); })`, { ...options, eval: true });
}

/**
 * Reads one stored version of the index; one larger than {@link INLINE_MAX} in a worker thread of its own (index-worker.ts), which
 * exits when done: decoding, scanning, rewriting and compressing tens of MB are each tens to
 * hundreds of ms of synchronous work, which on the event loop would stall every request of the
 * process. The event loop only passes the stored bytes on in pieces (never joining them) and
 * takes back the results, the two copies moved without a copy. The worker's heap is capped
 * (`heapMb`), so a hostile index fails that read rather than the process.
 */
export async function readIndex(body: Buffer | AsyncIterable<Buffer>, settings: Omit<JobSettings, 'batch'>, limits: { readonly maxBytes: number; readonly heapMb: number }): Promise<BuiltIndex> {
  if (Buffer.isBuffer(body) && body.length > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (Buffer.isBuffer(body)) return body.length <= INLINE_MAX ? readHere(body, settings) : readInWorker(body, settings, limits);
  const head: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return readHere(Buffer.concat(head), settings);
    head.push(next.value);
    size += next.value.length;
    if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
    if (size > INLINE_MAX) break;
  }
  return readInWorker(rest(head, iterator), settings, limits);
}

/** Reads the index in a worker thread once one of the process's {@link WORKERS} is free. */
async function readInWorker(body: Buffer | AsyncIterable<Buffer>, settings: Omit<JobSettings, 'batch'>, limits: { readonly maxBytes: number; readonly heapMb: number }): Promise<BuiltIndex> {
  const release = await slot();
  try {
    return await runWorker(body, settings, limits);
  } finally {
    release();
  }
}

async function* rest(head: readonly Buffer[], iterator: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
}

function readHere(body: Buffer, settings: Omit<JobSettings, 'batch'>): Promise<BuiltIndex> {
  const upstream = new URL(settings.upstream);
  return buildIndex(body, new ChartLocations(upstream, new ChartHosts(upstream, settings.allowedHosts), settings.remote));
}

/** Reads the index in a worker thread; see {@link readIndex}. */
function runWorker(body: Buffer | AsyncIterable<Buffer>, settings: Omit<JobSettings, 'batch'>, limits: { readonly maxBytes: number; readonly heapMb: number }): Promise<BuiltIndex> {
  const worker = startWorker({ ...settings, batch: BATCH }, limits.heapMb);
  worker.unref();
  const listed = new Map<string, string | undefined>();
  // The port hands over every queued message in one turn: batches are taken one per turn.
  const batches: (readonly (string | null)[])[] = [];
  let taking: Promise<void> = Promise.resolve();
  const take = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      for (let i = 0; i < batch.length; i += 2) listed.set(batch[i]!, batch[i + 1] ?? undefined);
      await new Promise((next) => setImmediate(next));
    }
  };
  const result = new Promise<BuiltIndex>((resolve, reject) => {
    worker.on('message', (message: WorkerMessage) => {
      switch (message.kind) {
        case 'listed':
          if (batches.push(message.pairs) === 1) taking = taking.then(take);
          return;
        case 'done':
          void taking.then(() => resolve({
            plain: Buffer.from(message.plain.buffer, message.plain.byteOffset, message.plain.byteLength),
            gzip: Buffer.from(message.gzip.buffer, message.gzip.byteOffset, message.gzip.byteLength),
            listed, blockedHosts: message.blockedHosts, figures: message.figures,
          }));
          return;
        case 'failed':
          reject(new Error(`index.yaml could not be read: ${message.message}`));
      }
    });
    worker.on('error', (err) => reject(new Error(`index.yaml could not be read: ${err.message}`)));
    worker.on('exit', (code) => reject(new Error(`index.yaml could not be read: the worker stopped (${code})`)));
  });
  const fed = feed(worker, body, limits.maxBytes);
  fed.catch(() => undefined);
  return Promise.all([result, fed]).then(([built]) => built).finally(() => void worker.terminate());
}

async function feed(worker: Worker, body: Buffer | AsyncIterable<Buffer>, max: number): Promise<void> {
  let size = 0;
  const pieces = Buffer.isBuffer(body) ? slices(body) : body;
  for await (const piece of pieces) {
    size += piece.length;
    if (size > max) throw tooLarge(max);
    // A view is cloned with its whole ArrayBuffer: give the worker these bytes alone, moved.
    const own = new Uint8Array(piece);
    worker.postMessage({ chunk: own }, [own.buffer]);
  }
  worker.postMessage({ end: true });
}

function tooLarge(max: number): Error {
  return cfError('CF_ERR_POLICY_TOO_LARGE', `index.yaml is larger than ${max} bytes (maxIndexBytes)`, { path: 'index.yaml' });
}

function* slices(body: Buffer): Generator<Buffer> {
  for (let at = 0; at < body.length; at += PIECE) yield body.subarray(at, at + PIECE);
}
