import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { HotCache } from '../../cache/cache.js';
import type { Storage } from '../../storage/storage.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { cfError } from '../../errors/errors.js';
import type { LockedWork } from '../lock/key-lock.js';
import type { FillSharing } from '../lock/cluster-lock.js';
import type { Fill } from '../fill/fill.js';
import type { HotEntry } from '../lookup/hot-index.js';
import type { Filling, Resolved, UpstreamMeta } from '../resolved.js';
import type { FillDirectory } from './fill-directory.js';
import { FILLS_PATH, SECRET_HEADER, sourceKey, type FillSource } from './fill-source.js';
import { RemoteFill } from './remote-fill.js';

/** The header the winner sends its fill's upstream metadata in (base64url JSON). */
export const META_HEADER = 'x-cacheforge-fill-meta';

/** How long the winner may take to answer a request for its fill's headers. */
const ANSWER_TIMEOUT_MS = 5000;

/** What streaming across replicas needs. */
export interface ReplicaSharingOptions {
  readonly cache: HotCache;
  readonly directory: FillDirectory;
  readonly secret: string;
  /** Where blobs are committed (the winner's commit is read back from it). */
  readonly storage: Storage;
  /** Local storage the streamed bytes are spooled in (the storage itself when it reads while writing). */
  readonly spool: Storage;
  /** How long to look for the winner's record after it verified (`cache.lock.wait`). */
  readonly wait: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * Streaming a fill across replicas, for the cluster lock: the winner lists its fill and advertises
 * where it runs; a loser streams it from there to its own clients at once. When the stream breaks
 * and the winner is gone (its address no longer answers), the loser runs the lock again: it takes
 * the key once the dead winner's lock runs out and fetches itself. When the winner is there (its
 * fill failed: a mismatch, an upstream error), the loser's clients fail and the winner's retry, if
 * any, is for the next request to follow.
 */
export class ReplicaSharing implements FillSharing<Resolved> {
  constructor(private readonly o: ReplicaSharingOptions) {}

  publish(key: string, result: Resolved): void {
    if (result.kind === 'fill') this.o.directory.publish(key, result);
  }

  async follow(key: string, work: LockedWork<Resolved>, again: () => Promise<Resolved>): Promise<Resolved | undefined> {
    const source = await this.o.cache.get<FillSource>(sourceKey(key)).catch(() => undefined);
    if (!source?.url || !source.id) return undefined;
    const response = await get(source, this.o.secret).catch(() => undefined);
    if (!response) return undefined;
    if (response.statusCode !== 200) { response.resume(); return undefined; }
    const length = response.headers['content-length'];
    const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    const fill = new RemoteFill(response, await this.o.spool.writer(), this.o.storage, size);
    this.o.log.debug({ key: key.replaceAll('\u0000', ' '), from: source.url }, 'streaming another replica\'s fill');
    return this.filling(fill, metaOf(response), source, work, again);
  }

  private filling(fill: RemoteFill, meta: UpstreamMeta, source: FillSource, work: LockedWork<Resolved>, again: () => Promise<Resolved>): Filling {
    let takenOver: Resolved | undefined;
    const retry = fill.verified.then(() => undefined, async () => {
      if (!await winnerGone(source, this.o.secret)) return undefined;
      this.o.log.warn({ from: source.url }, 'the replica filling this object is gone; taking the fetch over');
      takenOver = await again().catch(() => undefined);
      return takenOver?.kind === 'fill' ? takenOver : undefined;
    });
    const recorded = fill.verified.then(() => this.stored(fill, work), async (err: unknown) => {
      const next = await retry;
      if (next) return next.recorded;
      if (takenOver?.kind === 'stored') return takenOver.entry;
      throw err;
    });
    recorded.catch(() => undefined);
    // The type of a fill is what the pipeline reads of one; a remote fill answers all of it.
    const filling: Filling = { kind: 'fill', fill: fill as unknown as Fill, meta, recorded, retry, over: false };
    retry.then((next) => { if (!next) filling.over = true; }, () => { filling.over = true; });
    return filling;
  }

  /** The winner's record, looked for after it verified (it commits and records right after). */
  private async stored(fill: RemoteFill, work: LockedWork<Resolved>): Promise<HotEntry> {
    const deadline = this.o.clock.now() + this.o.wait;
    let pause = 25;
    for (;;) {
      const stored = await work.recheck().catch(() => undefined);
      if (stored?.kind === 'stored') {
        fill.committed({ digest: stored.entry.record.digest, size: stored.entry.record.size });
        return stored.entry;
      }
      if (this.o.clock.now() >= deadline) {
        const err = cfError('CF_ERR_UPSTREAM_UNAVAILABLE', 'the replica that filled this object did not record it');
        fill.unrecorded(err);
        throw err;
      }
      await this.o.clock.sleep(pause);
      pause = Math.min(pause * 2, 500);
    }
  }
}

function request(source: FillSource, secret: string): http.ClientRequest {
  const url = new URL(FILLS_PATH + encodeURIComponent(source.id), source.url);
  return (url.protocol === 'https:' ? https : http).request(url, { headers: { [SECRET_HEADER]: secret } });
}

function get(source: FillSource, secret: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(source, secret);
    // A winner that does not answer at all must not hold the poll up: then the wait goes on as before.
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error('no answer from the replica filling this object')));
    req.on('response', (res) => { req.setTimeout(0); resolve(res); }).on('error', reject).end();
  });
}

/** True when the winner's address no longer answers at all (its process or host is gone). */
async function winnerGone(source: FillSource, secret: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(source, secret);
    req.setTimeout(ANSWER_TIMEOUT_MS, () => { req.destroy(); resolve(true); });
    req.on('response', (res) => { res.destroy(); resolve(false); }).on('error', () => resolve(true)).end();
  });
}

function metaOf(response: IncomingMessage): UpstreamMeta {
  const raw = response.headers[META_HEADER];
  try {
    if (typeof raw === 'string') return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as UpstreamMeta;
  } catch { /* a winner of another version: no metadata beyond the bytes */ }
  return { headers: {} };
}
