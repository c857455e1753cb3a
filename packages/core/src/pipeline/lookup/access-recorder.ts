import type { AccessCount, ArtifactId, MetadataStore } from '../../metadata/metadata.js';
import type { Logger } from '../../util/logger.js';

/**
 * Counts serves per artifact and writes them to metadata in one batch every `intervalMs`, off the
 * hot path: a hit costs a Map update, not a SQL write.
 */
export class AccessRecorder {
  private pending = new Map<string, { -readonly [K in keyof AccessCount]: AccessCount[K] }>();
  private readonly timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly metadata: MetadataStore, private readonly log: Logger, private readonly intervalMs: number) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.flush(), intervalMs);
      this.timer.unref();
    }
  }

  record(id: ArtifactId, key: string, at = Date.now()): void {
    const entry = this.pending.get(key);
    if (entry) { entry.hits += 1; entry.lastAccess = at; } else this.pending.set(key, { remote: id.remote, key: id.key, variant: id.variant, hits: 1, lastAccess: at });
    if (this.intervalMs === 0) void this.flush();
  }

  /** Writes what is pending; resolves when it is written (or failed and was logged). */
  flush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.metadata.recordAccess(batch)).catch((err: unknown) => {
      this.log.warn({ err, count: batch.length }, 'could not record access statistics');
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
