import type { KeyLock, LockedWork } from '../pipeline/lock/key-lock.js';
import type { Filling, Resolved, UpstreamMeta } from '../pipeline/resolved.js';
import type { HotEntry } from '../pipeline/lookup/hot-index.js';
import type { Fill } from '../pipeline/fill/fill.js';
import type { Storage } from '../storage/storage.js';
import type { Logger } from '../util/logger.js';
import { cfError } from '../errors/errors.js';
import type { FillSnapshot, KeyEvent, LockAnswer, PrimaryMessage } from './messages.js';
import { fromWire, toWire, type WorkerChannel } from './worker-channel.js';
import { MirroredFill } from './mirrored-fill.js';

type Released = Extract<PrimaryMessage, { t: 'released' }>;

/** Rounds of "wait for the holder, look again" before a caller gives up (each round is one holder's whole run). */
const MAX_ROUNDS = 64;

/**
 * One upstream fetch per key across the worker processes of one instance, with the primary as
 * the lock's keeper. The caller that gets the key runs the work (through `next`, the cluster lock,
 * when replicas share Redis) and reports its fill to the primary as it runs; a caller in another
 * worker that finds the key held mirrors that fill (`MirroredFill`) and streams it to its clients
 * while it arrives, or, when the holder ends without a fill (a hit on recheck, a 304, an error),
 * looks again, takes the holder's error, or runs the work itself.
 */
export class WorkerLock implements KeyLock<Resolved> {
  constructor(private readonly channel: WorkerChannel, private readonly storage: Storage, private readonly log: Logger,
    private readonly next?: KeyLock<Resolved>) {}

  /** Another worker's run is joined in `run` (the primary knows of it), never without a lookup. */
  joinable(): undefined {
    return undefined;
  }

  async run(key: string, work: LockedWork<Resolved>): Promise<Resolved> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const outcome = await this.acquire(key, work);
      if (outcome.kind === 'granted') return this.hold(key, outcome.gen, work);
      if (outcome.kind === 'fill') return outcome.filling;
      if (outcome.error) throw fromWire(outcome.error);
      const stored = await work.recheck();
      if (stored !== undefined) return stored;
    }
    throw cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `gave up waiting for other workers to fill ${key.replaceAll('\u0000', ' ')}`);
  }

  /**
   * Asks the primary for the key: granted, or queued behind a holder whose fill arrives here (to
   * follow) or whose end does (to look again). Listening starts before asking, so no event is missed.
   */
  private acquire(key: string, work: LockedWork<Resolved>): Promise<{ kind: 'granted'; gen: number } | { kind: 'fill'; filling: Filling } | { kind: 'released'; error?: Released['error'] }> {
    return new Promise((resolve, reject) => {
      let gen: number | undefined;
      const early: Array<KeyEvent | Released> = [];
      let follower: Follower | undefined;
      const stop = this.channel.watch(key, (event) => {
        if (gen === undefined) { early.push(event); return; }
        handle(event);
      });
      const handle = (event: KeyEvent | Released): void => {
        if (event.gen !== gen) return;
        if (follower) { follower.apply(event); if (event.t === 'released') stop(); return; }
        if (event.t === 'fill') {
          follower = new Follower(event.fill, this.storage, work, () => stop());
          resolve({ kind: 'fill', filling: follower.filling });
        } else if (event.t === 'released') {
          stop();
          resolve({ kind: 'released', error: event.error });
        }
      };
      this.channel.request<LockAnswer>({ op: 'lock', key }).then((answer) => {
        if (answer.granted) { stop(); resolve({ kind: 'granted', gen: answer.gen }); return; }
        gen = answer.gen;
        for (const event of early.splice(0)) handle(event);
      }, (err: unknown) => { stop(); reject(err); });
    });
  }

  /** The key is this worker's: look once more, else fetch, and tell the primary how the fill goes. */
  private async hold(key: string, gen: number, work: LockedWork<Resolved>): Promise<Resolved> {
    let result: Resolved;
    try {
      if (this.next) {
        result = await this.next.run(key, work); // it looks again itself, under its own lock
      } else {
        const stored = await work.recheck();
        if (stored !== undefined) { this.unlock(key, gen); return stored; }
        result = await work.fetch();
      }
    } catch (err) {
      this.unlock(key, gen, err);
      throw err;
    }
    if (result.kind === 'fill') this.publish(key, gen, result);
    void work.holdUntil(result).catch(() => undefined).finally(() => this.unlock(key, gen));
    return result;
  }

  private unlock(key: string, gen: number, err?: unknown): void {
    this.channel.post({ cf: 1, t: 'unlock', key, gen, error: err === undefined ? undefined : toWire(err) });
  }

  /** Reports a fill (and the retry that follows a verification failure) to the primary as it runs. */
  private publish(key: string, gen: number, filling: Filling, seq = 1): void {
    const fill = filling.fill;
    const path = fill.localPath;
    if (!path) {
      // A storage with no local file to follow: the others wait for the commit and read it stored.
      this.log.debug({ key: key.replaceAll('\u0000', ' ') }, 'fill has no local file; other workers wait for its commit');
      return;
    }
    const channel = this.channel;
    channel.post({ cf: 1, t: 'fill', key, gen, fill: snapshot(fill, path, filling, seq) });
    // One progress message in flight at a time: a fast fill sends the latest count, not every chunk's.
    let sending = false;
    let dirty = false;
    let reported: Fill['state'] = 'filling';
    const report = (): void => {
      if (reported !== fill.state) {
        reported = fill.state;
        if (fill.state === 'verified') channel.post({ cf: 1, t: 'verified', key, gen, seq, flushed: fill.flushed, digest: fill.digest! });
        else if (fill.state === 'committed') channel.post({ cf: 1, t: 'committed', key, gen, seq, blob: fill.blob! });
        else if (fill.state === 'failed') channel.post({ cf: 1, t: 'failed', key, gen, seq, error: toWire(fill.error) });
        if (fill.state === 'committed' || fill.state === 'failed') fill.off('progress', onProgress);
        return;
      }
      if (sending) { dirty = true; return; }
      sending = true;
      channel.post({ cf: 1, t: 'progress', key, gen, seq, flushed: fill.flushed }, () => {
        sending = false;
        if (dirty) { dirty = false; report(); }
      });
    };
    const onProgress = (): void => report();
    fill.on('progress', onProgress);
    report();
    filling.retry.then((next) => { if (next) this.publish(key, gen, next, seq + 1); }, () => undefined);
  }
}

function snapshot(fill: Fill, path: string, filling: Filling, seq: number): FillSnapshot {
  return {
    seq, path, size: fill.expect.size, meta: filling.meta, flushed: fill.flushed, state: fill.state, digest: fill.digest, blob: fill.blob,
    error: fill.error ? toWire(fill.error) : undefined,
  };
}

/**
 * This worker's view of one holding of a key by another worker: the mirrored fill, and the one
 * that replaces it after a verification failure. The key's record is read from metadata here once
 * the holder has recorded it and let the key go (the primary says `released`).
 */
class Follower {
  readonly filling: Filling;
  private current: MirroredFill;
  private resolveRetry!: (next: Filling | undefined) => void;
  private released!: () => void;
  private readonly recorded: Promise<HotEntry>;

  constructor(first: FillSnapshot, private readonly storage: Storage, work: LockedWork<Resolved>, private readonly done: () => void) {
    const released = new Promise<void>((resolve) => { this.released = resolve; });
    this.recorded = released.then(async () => {
      const stored = await work.recheck();
      if (stored?.kind === 'stored') return stored.entry;
      throw this.current.error ?? cfError('CF_ERR_UPSTREAM_UNAVAILABLE', 'the other worker did not store the object');
    });
    this.recorded.catch(() => undefined);
    this.current = new MirroredFill(first, storage);
    this.filling = this.make(this.current, first.meta);
  }

  apply(event: KeyEvent | Released): void {
    if (event.t === 'released') {
      // Over: a fill still running was lost with its worker (the primary saw it exit).
      this.current.lost(cfError('CF_ERR_UPSTREAM_UNAVAILABLE', 'the worker filling this object exited before it was stored'));
      this.resolveRetry(undefined);
      this.released();
      this.done();
      return;
    }
    if (event.t === 'fill') {
      if (event.fill.seq <= this.current.seq) return;
      const resolve = this.resolveRetry;
      this.current = new MirroredFill(event.fill, this.storage);
      resolve(this.make(this.current, event.fill.meta));
      return;
    }
    if (event.seq === this.current.seq) this.current.apply(event);
  }

  private make(fill: MirroredFill, meta: UpstreamMeta): Filling {
    const retry = new Promise<Filling | undefined>((resolve) => { this.resolveRetry = resolve; });
    // The type of a fill is what the pipeline reads of one; a mirrored fill answers all of it.
    const filling: Filling = { kind: 'fill', fill: fill as unknown as Fill, meta, recorded: this.recorded, retry, over: false };
    retry.then((next) => { if (!next) filling.over = true; }, () => { filling.over = true; });
    return filling;
  }
}
