import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { cfError, memoryEntity, RewrittenDocuments, type Entity, type Logger } from '@cacheforge/core';
import { etagKey, type IndexVersions } from './index-versions.js';
import { rewriteIndex } from './rewrite.js';
import type { ChartLocations } from './url-space.js';

const gzipAsync = promisify(gzip);

export type Encoding = 'identity' | 'gzip';

/** What the rewritten index varies on besides its stored version. */
const VARY = { vary: 'Accept-Encoding' };

/**
 * The index as clients get it: the stored upstream bytes with chart URLs pointing here, plain or
 * gzip (compressed on the zlib thread pool), made once per stored version and kept in the core's
 * rewritten-documents cache. URLs are relative, so the copy is the same for every public base.
 */
export class ServedIndexes {
  private readonly cache: RewrittenDocuments;
  private readonly running = new Map<string, Promise<Entity>>();
  private readonly warnedHosts = new Set<string>();
  /** Names this remote's rewrite rules, so a changed config never reuses a client's copy. */
  private readonly rules: string;
  private warnedBudget = false;

  constructor(
    private readonly versions: IndexVersions,
    private readonly locations: ChartLocations,
    private readonly options: { readonly remote: string; readonly rules: string; readonly cacheBytes: number; readonly maxIndexBytes: number },
    private readonly log: Logger,
  ) {
    this.cache = new RewrittenDocuments(options.cacheBytes);
    this.rules = createHash('sha1').update(options.rules).digest('hex').slice(0, 8);
  }

  /** The index to send for the stored version `stored`, in `encoding`. */
  async entity(stored: Entity, encoding: Encoding): Promise<Entity> {
    if (!stored.etag) return this.build(stored, encoding); // mid-fill: this answer only
    const key = `${etagKey(stored.etag)}\u0000${encoding}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let running = this.running.get(key);
    if (!running) {
      running = this.build(stored, encoding).then((entity) => { this.keep(key, entity); return entity; });
      this.running.set(key, running);
      void running.catch(() => undefined).finally(() => this.running.delete(key));
    }
    return running;
  }

  private async build(stored: Entity, encoding: Encoding): Promise<Entity> {
    // A mid-fill answer has no stored version to name: a validator of its own, never matched again.
    const tag = stored.etag ? etagKey(stored.etag) : randomUUID();
    if (encoding === 'gzip') {
      const plain = await this.entity(stored, 'identity');
      const bytes = await gzipAsync(plain.bytes!);
      return memoryEntity(bytes, { contentType: plain.contentType!, etag: `"${tag}.${this.rules}.gz"`, lastModified: stored.lastModified, headers: { ...VARY, 'content-encoding': 'gzip' } });
    }
    const body = stored.bytes ?? await readAll(stored, this.options.maxIndexBytes);
    // Joining and decoding tens of MB take tens of ms each: one event-loop turn apiece.
    await nextTurn();
    const text = body.toString('utf8');
    await nextTurn();
    const prepared = await this.versions.prepare(stored.etag, text);
    const bytes = await rewriteIndex(body, text, prepared.scan.spans, (value) => this.replacement(value)) ?? body;
    return memoryEntity(bytes, { contentType: stored.contentType ?? 'application/x-yaml', etag: `"${tag}.${this.rules}"`, lastModified: stored.lastModified, headers: VARY });
  }

  private replacement(value: string): string | undefined {
    const target = this.locations.rewrite(value);
    if (target === 'kept') return undefined;
    if ('path' in target) return target.path;
    if (!this.warnedHosts.has(target.blockedHost)) {
      this.warnedHosts.add(target.blockedHost);
      this.log.warn({ remote: this.options.remote, host: target.blockedHost },
        `index.yaml lists charts on ${target.blockedHost}, which this remote may not fetch from: their URLs are left pointing there (clients fetch them directly, uncached); add "${target.blockedHost}" to remotes.${this.options.remote}.allowedHosts to cache them`);
    }
    return undefined;
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

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function readAll(entity: Entity, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await entity.open()) {
    size += (chunk as Buffer).length;
    if (size > max) throw cfError('CF_ERR_POLICY_TOO_LARGE', `index.yaml is larger than ${max} bytes (maxIndexBytes)`, { path: 'index.yaml' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
