import { Worker } from 'node:worker_threads';

/**
 * The worker's whole program: one incremental sha256 per job id. Bytes come in a ring of shared
 * memory (`ring`: offset and length pairs), or copied in the message when the ring was full
 * (`chunks`). Every update is acknowledged with its byte counts, so the sender knows which part
 * of the ring is free again and can bound what is queued; `digest` answers the hex digest.
 * Plain JavaScript evaluated as a script, so it runs the same from `src/` (tsx) and `dist/`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ring = workerData.ring;
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let hash = jobs.get(m.id);
    if (!hash) jobs.set(m.id, hash = createHash('sha256'));
    let ringBytes = 0;
    let copied = 0;
    for (let i = 0; i < m.ring.length; i += 2) { hash.update(new Uint8Array(ring, m.ring[i], m.ring[i + 1])); ringBytes += m.ring[i + 1]; }
    for (const chunk of m.chunks) { hash.update(chunk); copied += chunk.byteLength; }
    parentPort.postMessage({ id: m.id, ring: ringBytes, copied });
  } else if (m.op === 'digest') {
    const hash = jobs.get(m.id) ?? createHash('sha256');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
  } else if (m.op === 'drop') {
    jobs.delete(m.id);
  }
});
`;

/** Shared memory the chunks are copied into for the thread: one copy, no garbage on either side. */
const RING_BYTES = 4 * 1024 * 1024;

interface Reply { readonly id: number; readonly ring?: number; readonly copied?: number; readonly hex?: string }

/** One worker thread and the jobs it hashes; replaced by a new one after it dies. */
class HashThread {
  readonly worker: Worker;
  private readonly jobs = new Map<number, OffThreadSha256>();
  private readonly ring = new SharedArrayBuffer(RING_BYTES);
  private readonly view = new Uint8Array(this.ring);
  /** Ring bytes ever written, and ever hashed: the thread reads them in the order they were written. */
  private written = 0;
  private freed = 0;
  dead?: Error;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: this.ring } });
    // NOTE: an idle hashing thread must not keep the process (or a test run) alive.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      if (reply.ring) this.freed += reply.ring;
      this.jobs.get(reply.id)?.onReply(reply);
    });
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`the sha256 thread exited (code ${code})`)));
  }

  /** Sends the next chunks of job `id`: into the ring while it has room, else copied in the message. */
  send(id: number, chunks: readonly Buffer[]): void {
    const ring: number[] = [];
    const copied: Buffer[] = [];
    for (const chunk of chunks) {
      if (copied.length > 0 || chunk.length > RING_BYTES - (this.written - this.freed)) { copied.push(chunk); continue; }
      let from = 0;
      while (from < chunk.length) {
        const at = this.written % RING_BYTES;
        const n = Math.min(chunk.length - from, RING_BYTES - at);
        this.view.set(chunk.subarray(from, from + n), at);
        ring.push(at, n);
        this.written += n;
        from += n;
      }
    }
    this.worker.postMessage({ op: 'update', id, ring, chunks: copied });
  }

  add(id: number, job: OffThreadSha256): void { this.jobs.set(id, job); }
  remove(id: number): void { this.jobs.delete(id); }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    if (current === this) current = undefined;
    for (const job of this.jobs.values()) job.fail(err);
    this.jobs.clear();
  }
}

let current: HashThread | undefined;
let nextId = 1;

/** Queued bytes above which `update` callers should wait for {@link OffThreadSha256.drained}. */
export const SHA256_THREAD_BACKLOG = 2 * 1024 * 1024;

/**
 * The sha256 of a large body computed on a worker thread, so the event loop that receives the
 * upstream body and feeds its clients does not also spend ~1 ms per MiB hashing it. The chunks
 * are copied to the thread through shared memory (the caller keeps using its buffers). If the thread dies, `digest`
 * rejects: a job never gets the digest of part of its bytes.
 */
export class OffThreadSha256 {
  private readonly id = nextId++;
  private readonly thread: HashThread;
  /** Bytes sent and not yet hashed. */
  backlog = 0;
  private failure?: Error;
  private result?: { resolve: (hex: string) => void; reject: (err: Error) => void };
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor() {
    this.thread = current ??= new HashThread();
    this.thread.add(this.id, this);
  }

  update(chunks: readonly Buffer[]): void {
    if (this.failure) return;
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.length;
    this.backlog += bytes;
    this.thread.send(this.id, chunks);
  }

  /** Resolves once the backlog is at most {@link SHA256_THREAD_BACKLOG}; rejects if the thread died. */
  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.backlog <= SHA256_THREAD_BACKLOG) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The hex digest of every chunk given; the job is over after this. */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.worker.postMessage({ op: 'digest', id: this.id });
    });
  }

  /** Forgets the job without a digest (the fill failed). */
  drop(): void {
    if (this.failure || this.result) return;
    this.failure = new Error('sha256 job dropped');
    this.thread.remove(this.id);
    if (!this.thread.dead) this.thread.worker.postMessage({ op: 'drop', id: this.id });
  }

  /** @internal A message from the thread. */
  onReply(reply: Reply): void {
    if (reply.ring !== undefined) {
      this.backlog -= reply.ring + (reply.copied ?? 0);
      if (this.backlog <= SHA256_THREAD_BACKLOG) for (const w of this.waiters.splice(0)) w.resolve();
    }
    if (reply.hex !== undefined) {
      this.thread.remove(this.id);
      this.result?.resolve(reply.hex);
    }
  }

  /** @internal The thread died under the job. */
  fail(err: Error): void {
    this.failure = err;
    this.result?.reject(err);
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}

/** Ends the current hashing thread (tests: a job running on it must fail, not finish short). */
export async function stopSha256Thread(): Promise<void> {
  await current?.worker.terminate();
}
