import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { memoryEntity, RewrittenDocuments, type Entity, type Logger } from '@cacheforge/core';
import type { BuiltIndex } from './index-build.js';
import { etagKey, type IndexVersions } from './index-versions.js';

export type Encoding = 'identity' | 'gzip';

/** What the rewritten index varies on besides its stored version. */
const VARY = { vary: 'Accept-Encoding' };

/**
 * The index as clients get it: the stored upstream bytes with chart URLs pointing here, plain or
 * gzip, both made once per stored version (in a worker thread, see index-job.ts) and kept in the
 * core's rewritten-documents cache. URLs are relative, so the copy is the same for every public
 * base. They are sent as held bytes: the core writes a large body in slices, never in one turn.
 */
export class ServedIndexes {
  private readonly cache: RewrittenDocuments;
  /** Names this remote's rewrite rules, so a changed config never reuses a client's copy. */
  private readonly rules: string;
  private warnedBudget = false;

  constructor(
    private readonly versions: IndexVersions,
    private readonly options: { readonly remote: string; readonly rules: string; readonly cacheBytes: number },
    private readonly log: Logger,
  ) {
    this.cache = new RewrittenDocuments(options.cacheBytes);
    this.rules = createHash('sha1').update(options.rules).digest('hex').slice(0, 8);
  }

  /** The index to send for the stored version `stored`, in `encoding`. */
  async entity(stored: Entity, encoding: Encoding): Promise<Entity> {
    const source = async () => stored.bytes ?? (await stored.open() as Readable & AsyncIterable<Buffer>);
    // A mid-fill answer has no stored version to name: a validator of its own, never matched again.
    if (!stored.etag) return this.entities(await this.versions.read(undefined, source), randomUUID(), stored)[encoding];
    const tag = etagKey(stored.etag);
    const cached = this.cache.get(`${tag}\u0000${encoding}`);
    if (cached) return cached;
    const made = this.entities(await this.versions.read(stored.etag, source), tag, stored);
    for (const [key, entity] of Object.entries(made)) this.keep(`${tag}\u0000${key}`, entity);
    return made[encoding];
  }

  private entities(built: BuiltIndex, tag: string, stored: Entity): Record<Encoding, Entity> {
    const contentType = stored.contentType ?? 'application/x-yaml';
    return {
      identity: memoryEntity(built.plain, { contentType, etag: `"${tag}.${this.rules}"`, lastModified: stored.lastModified, headers: VARY }),
      gzip: memoryEntity(built.gzip, { contentType, etag: `"${tag}.${this.rules}.gz"`, lastModified: stored.lastModified, headers: { ...VARY, 'content-encoding': 'gzip' } }),
    };
  }

  private keep(key: string, entity: Entity): void {
    this.cache.set(key, entity);
    if (this.cache.get(key) === undefined && !this.warnedBudget && this.options.cacheBytes > 0) {
      this.warnedBudget = true;
      this.log.warn({ remote: this.options.remote, bytes: entity.size, rewriteCacheBytes: this.options.cacheBytes },
        `the rewritten index (${entity.size} bytes) is more than a quarter of rewriteCacheBytes, so it is rewritten again for every request; raise remotes.${this.options.remote}.rewriteCacheBytes`);
    }
  }
}

/** Whether the client takes gzip (`Accept-Encoding`, a `q=0` excluded). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header ?? '';
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}
