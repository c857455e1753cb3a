import { hasCode, isCacheForgeError } from '../../errors/errors.js';
import type { PurgeLog } from '../purge-log.js';
import type { Expectation } from '../../contract/index.js';
import type { RemotePolicy } from '../../policy/policy.js';
import type { Storage } from '../../storage/storage.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import { discardBody } from '../../upstream/client.js';
import { upstreamStatusError } from '../../upstream/outcome.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Logger } from '../../util/logger.js';
import type { Clock } from '../../util/clock.js';
import { redact } from '../../util/redact.js';
import type { Job } from '../job.js';
import { toUrl, type Filling } from '../resolved.js';
import type { HotIndex } from '../lookup/hot-index.js';
import { expectationFromHeader, expectationOf, type DocumentLoader } from './expectation.js';
import { Fill } from './fill.js';
import { keptMeta, type Recorder } from './record.js';

/** What the fill stage writes to and reports into (one set per process). */
export interface FillServices {
  readonly storage: Storage;
  /** Local storage followers read from when `storage` cannot read back before commit. */
  readonly spool?: Storage;
  readonly hot: HotIndex;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Fills under way, each with a promise that settles once it is recorded (or has failed). */
  readonly fills: Map<Fill, Promise<unknown>>;
  readonly clock: Clock;
  /** The purges seen: a fill for a key purged while it ran is not recorded. */
  readonly purges?: PurgeLog;
}

/**
 * The stage that brings an upstream body into storage: it learns what the bytes must be (the
 * route's verification, resolved lazily), streams them to storage and to every waiting client,
 * verifies them, commits and records them. A body that fails its verification is fetched once
 * more; the second failure is the answer, and neither is ever stored.
 */
export class FillStage {
  constructor(
    private readonly remote: string,
    private readonly policy: RemotePolicy,
    private readonly client: UpstreamClient,
    private readonly recorder: Recorder,
    private readonly load: DocumentLoader,
    private readonly s: FillServices,
  ) {}

  /** What the job's bytes must be (may read a sidecar or an index document through the pipeline). */
  expectation(job: Job): Promise<Expectation> {
    return expectationOf(job.options.verify, this.load, job.path);
  }

  /** Where the upstream keeps the bytes: the index's location, else the route's. */
  url(job: Job, expectation: Expectation): URL {
    return toUrl(expectation.url ?? job.upstream.url);
  }

  /** Starts the fill of a 200 response (`attempt` 2 is the retry after a mismatch). */
  async start(job: Job, response: UpstreamResponse, expectation: Expectation, where: string, attempt = 1): Promise<Filling> {
    const { storage, spool, hot, metrics, fills, log } = this.s;
    const lengthHeader = response.headers['content-length'];
    const announced = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    const size = announced ?? expectation.size;
    if (size !== undefined) {
      try { this.policy.checkSize(size, job.path); } catch (err) { discardBody(response); throw err; }
    }
    const writer = await storage.writer();
    const spoolWriter = storage.capabilities.readWhileWriting ? undefined : await spool?.writer();
    const fill = new Fill(response.body, writer, spoolWriter, {
      size, expectation: expectationFromHeader(job.options.verify, response.headers) ?? expectation, keepInMemory: hot.maxObjectBytes, describe: where,
      checkSize: (n) => this.policy.checkSize(n, job.path), openCommitted: (digest) => storage.openReader(digest),
    });
    metrics.inflight.inc({ remote: this.remote });
    const meta = keptMeta(response.headers, job.options.keepHeaders);
    const answeredAt = this.s.clock.now();
    const generation = this.s.purges?.generation;
    const retry = attempt > 1 ? Promise.resolve(undefined) : fill.done.then(() => undefined, (err: unknown) => this.again(job, expectation, err));
    const recorded = fill.done.then(
      (blob) => this.recorder.record(job, blob, meta, fill.memory, answeredAt, generation),
      async (err: unknown) => {
        const next = await retry;
        if (!next) throw err;
        return next.recorded;
      });
    recorded.catch(() => undefined);
    // This attempt's own end: its failure (a retry reports its own), or its recording.
    const settled = fill.done.then(() => recorded).catch((err: unknown) => {
      log.warn({ remote: this.remote, path: job.path, code: isCacheForgeError(err) ? err.code : undefined, reason: (err as Error).message, attempt },
        'fill failed; nothing was stored');
    }).finally(() => {
      fills.delete(fill);
      metrics.inflight.dec({ remote: this.remote });
      metrics.bytesFetched.inc({ remote: this.remote }, fill.flushed);
    });
    fills.set(fill, settled);
    const filling: Filling = { kind: 'fill', fill, meta, recorded, stale: job.stale, retry, over: false };
    retry.then((next) => { if (!next) filling.over = true; }, () => { filling.over = true; });
    return filling;
  }

  /** After a mismatch: the body once more from the upstream, without conditions. */
  private async again(job: Job, expectation: Expectation, err: unknown): Promise<Filling | undefined> {
    if (!hasCode(err, 'CF_ERR_UPSTREAM_DIGEST_MISMATCH')) return undefined;
    const url = this.url(job, expectation);
    const where = `GET ${redact(url)}`;
    this.s.log.warn({ remote: this.remote, path: job.path, reason: err.message }, 'upstream bytes failed verification; fetching them once more');
    const response = await this.client.request({ url, method: 'GET', headers: job.upstream.headers });
    if (response.status !== 200) {
      discardBody(response);
      throw upstreamStatusError(response.status, response.headers, where, this.remote);
    }
    return this.start(job, response, expectation, where, 2);
  }
}
