import {
  cfError, isCacheForgeError, memoryEntity, type Logger, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type FetchContext, type Handler,
  type BodyVerifier, type FinishedBody, type LoadedDocument, type PassthroughRoute, type Pipeline, type Route, type Verification,
} from '@cacheforge/core';
import { ModVerifier, ZipVerifier } from './dirhash.js';
import { h1Of, openNote, parseLookup, treeHead, type LookupAnswer, type VerifierKey } from './note.js';
import { parsePath, unescapeModule, type GoPath } from './paths.js';
import type { ModulePatterns } from './patterns.js';
import { TreeTimeline } from './timeline.js';
import { proveInclusion, type TileReader } from './tlog.js';
import { WholeDocumentCheck } from './whole-document.js';

/** How long a lookup answer and the tree head are reused before asking the database again. */
const LOOKUP_TTL_MS = 10 * 60_000;
const LATEST_TTL_MS = 60_000;
/** Parsed lookup answers kept (by stored version). */
const ANSWERS = 1024;
/** Largest lookup answer or tree head read. */
const NOTE_MAX_BYTES = 64 * 1024;

/** What one go remote serves. */
export interface GoRemote {
  readonly upstream: URL;
  /** The checksum database, with the key its tree heads are signed with; absent: length only. */
  readonly sumdb?: { readonly url: URL; readonly key: VerifierKey };
  readonly noSumCheck: ModulePatterns;
}

type VersionPath = Extract<GoPath, { kind: 'version' }>;
type Sumdb = NonNullable<GoRemote['sumdb']>;

/**
 * One GOPROXY remote. Version lists and `@latest` are mutable documents; `.info`, `.mod` and
 * `.zip` are immutable, and `.mod` and `.zip` are checked against the `h1:` hashes of the
 * checksum database's record for them before they are stored. The record is trusted as the go
 * command trusts it: its tree head's signature checked, the record proved in that tree, and the
 * tree proved on the database's timeline (see {@link TreeTimeline}). The database itself is
 * proxied at `sumdb/<name>/`, so clients that reach only this cache can check what it serves
 * with `GOSUMDB` at its default; its `latest` and lookup answers pass the same checks first.
 */
export class GoHandler implements Handler {
  private readonly answers = new Map<string, LookupAnswer>();
  /** Lookup answers (by stored version) proved in their tree, that tree on the timeline. */
  private readonly trusted = new Set<string>();
  private readonly timeline?: TreeTimeline;
  /**
   * Lookup answers (by route key) refused once: reused while stored, they would keep their module
   * refused after the database mends, so they are asked of it again until one is trusted.
   */
  private readonly distrusted = new Set<string>();
  /** Reading the stored `latest` once, so the timeline goes on where it was before a restart. */
  private seeded?: Promise<void>;

  constructor(private readonly remote: GoRemote, private readonly log: Logger) {
    if (remote.sumdb) this.timeline = new TreeTimeline(remote.sumdb.key.name, log);
  }

  canHandle(req: ArtifactRequest): Route | undefined {
    const path = parsePath(req);
    if (!path) return undefined;
    switch (path.kind) {
      case 'list': case 'latest': return { kind: 'cached', key: req.path, class: 'mutable' };
      case 'version': return { kind: 'cached', key: req.path, class: 'immutable' };
      case 'sumdb': {
        if (path.name !== this.remote.sumdb?.key.name) return { kind: 'refused', status: 404, reason: `this proxy serves no checksum database ${path.name}` };
        if (path.what === 'tile') return { kind: 'cached', key: req.path, class: 'immutable' };
        return { kind: 'cached', key: req.path, class: 'mutable', ttl: path.what === 'latest' ? LATEST_TTL_MS : LOOKUP_TTL_MS };
      }
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const path = parsePath(req);
    if (!path || route.kind !== 'cached') throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of the GOPROXY protocol`);
    if (path.kind === 'sumdb') return this.sumdb(req, route, path.what, new URL(path.rest, this.remote.sumdb!.url), ctx.pipeline);
    const url = new URL(req.path, this.remote.upstream);
    if (path.kind !== 'version' || path.ext === 'info') return ctx.pipeline.serve(req, route, { url });
    return ctx.pipeline.serve(req, route, { url }, { verify: this.verification(path, ctx.pipeline) });
  }

  /** The checksum database's own routes: tiles as they are, tree heads and records once trusted. */
  private async sumdb(req: ArtifactRequest, route: CachedRoute, what: SumdbPart, url: URL, pipeline: Pipeline): Promise<ArtifactResponse> {
    // The go command asks this before using a proxied database; it needs no upstream.
    if (what === 'supported') return { status: 200, cacheStatus: 'HIT', entity: memoryEntity(Buffer.alloc(0), { contentType: 'text/plain' }) };
    // A tile is trusted only once the root it helps compute is the signed one, by whoever reads it.
    if (what === 'tile') return pipeline.serve(req, route, { url });
    await this.ready(pipeline);
    if (what === 'latest') return pipeline.serve(req, route, { url }, { verify: this.headCheck(pipeline) });
    // A lookup answer may have been stored unchecked (read to verify a module whose check then
    // failed): it is checked here before any client sees it.
    const lookup = this.distrusted.has(route.key) ? { ...route, ttl: 0 } : route;
    const doc = await pipeline.load(lookup, { url }, { verify: this.lookupCheck(route.key, pipeline), maxBytes: NOTE_MAX_BYTES });
    await this.trust(coded(() => this.answer(doc)), doc.etag, route.key, pipeline);
    return {
      status: 200, cacheStatus: doc.cacheStatus,
      entity: memoryEntity(doc.body, { contentType: doc.contentType ?? 'text/plain; charset=utf-8', etag: doc.etag, lastModified: doc.lastModified }),
    };
  }

  private verification(path: VersionPath, pipeline: Pipeline): Verification {
    const sumdb = this.remote.sumdb;
    const module = unescapeModule(path.module);
    if (!sumdb || this.remote.noSumCheck.matches(module)) return { kind: 'known' };
    const lookup = `lookup/${path.module}@${path.version}`;
    const key = `sumdb/${sumdb.key.name}/${lookup}`;
    const version = unescapeModule(path.version);
    const ext = path.ext as 'mod' | 'zip';
    return {
      kind: 'document',
      route: { kind: 'cached', key, class: 'mutable', ttl: this.distrusted.has(key) ? 0 : LOOKUP_TTL_MS },
      upstream: { url: new URL(lookup, sumdb.url) },
      maxBytes: NOTE_MAX_BYTES,
      pick: (doc) => {
        const answer = this.answer(doc);
        const h1 = h1Of(answer, module, version, ext);
        if (!h1) return undefined;
        const prove = async () => {
          await this.ready(pipeline);
          await this.trust(answer, doc.etag, key, pipeline);
        };
        return { verifier: () => new ProvedVerifier(ext === 'mod' ? new ModVerifier(h1) : new ZipVerifier(h1), prove) };
      },
      unlisted: () => cfError('CF_ERR_UPSTREAM_DIGEST_MISMATCH', `the checksum database's record for ${module}@${version} has no hash of its ${ext}`),
    };
  }

  /**
   * Trusts a lookup answer as the go command does: its record proved in its signed tree through
   * the tiles, and that tree on the database's timeline. Once per stored version of the answer.
   */
  private async trust(answer: LookupAnswer, etag: string | undefined, key: string, pipeline: Pipeline): Promise<void> {
    const id = `${etag}`;
    if (etag !== undefined && this.trusted.has(id)) return;
    const tiles = this.tiles(pipeline);
    try {
      await proveInclusion(answer, tiles);
      await this.timeline!.accept(answer.tree, 'lookup', tiles);
    } catch (err) {
      if (this.distrusted.size >= ANSWERS) this.distrusted.delete(this.distrusted.values().next().value!);
      this.distrusted.add(key);
      if (isCacheForgeError(err)) throw err;
      throw cfError('CF_ERR_UPSTREAM_DIGEST_MISMATCH', `the checksum database's answer ${key} is refused: ${(err as Error).message}`);
    }
    this.distrusted.delete(key);
    if (this.trusted.size >= ANSWERS) this.trusted.delete(this.trusted.values().next().value!);
    this.trusted.add(id);
    // A newer tree than the stored `latest`: bring that up too, so a restart goes on from here.
    if (this.timeline!.head!.size > this.timeline!.latestAccepted) await this.refreshLatest(pipeline);
  }

  /** Reads the stored `latest` (the newest head accepted before a restart) into the timeline, once. */
  private ready(pipeline: Pipeline): Promise<void> {
    this.seeded ??= this.latest(pipeline, Infinity).catch((err: unknown) => {
      // Until it can be read, the first head seen is trusted as it is; the next check tries again.
      this.seeded = undefined;
      this.log.warn({ reason: (err as Error).message }, 'the stored tree head of the checksum database could not be read');
    });
    return this.seeded;
  }

  private async refreshLatest(pipeline: Pipeline): Promise<void> {
    await this.latest(pipeline, LATEST_TTL_MS).catch((err: unknown) => {
      this.log.debug({ reason: (err as Error).message }, 'the checksum database\'s latest tree head could not be brought up to date');
    });
  }

  /** Loads `sumdb/<name>/latest` (fetched when older than `ttl`), checked, into the timeline. */
  private async latest(pipeline: Pipeline, ttl: number): Promise<void> {
    const sumdb = this.remote.sumdb!;
    const doc = await pipeline.load({ kind: 'cached', key: `sumdb/${sumdb.key.name}/latest`, class: 'mutable', ttl },
      { url: new URL('latest', sumdb.url) }, { verify: this.headCheck(pipeline), maxBytes: NOTE_MAX_BYTES });
    // Stored only once checked; accepting it again sets the timeline from it after a restart.
    await this.timeline!.accept(coded(() => treeHead(openNote(doc.body.toString('utf8'), sumdb.key))), 'latest', this.tiles(pipeline));
  }

  /** Checks a `latest` answer before it is stored: its signature, and its tree on the timeline. */
  private headCheck(pipeline: Pipeline): Verification {
    const sumdb = this.remote.sumdb!;
    return {
      kind: 'known',
      verifier: () => new WholeDocumentCheck(NOTE_MAX_BYTES, async (body) => {
        await this.timeline!.accept(treeHead(openNote(body.toString('utf8'), sumdb.key)), 'latest', this.tiles(pipeline));
      }),
    };
  }

  /** Checks a lookup answer before it is stored: signature, inclusion, its tree on the timeline. */
  private lookupCheck(key: string, pipeline: Pipeline): Verification {
    const vkey = this.remote.sumdb!.key;
    return { kind: 'known', verifier: () => new WholeDocumentCheck(NOTE_MAX_BYTES, (body) => this.trust(parseLookup(body, vkey), undefined, key, pipeline)) };
  }

  /** Reads the database's tiles through the cache (`fresh`: asked of the database again). */
  private tiles(pipeline: Pipeline): TileReader {
    const sumdb: Sumdb = this.remote.sumdb!;
    return async (tile, fresh) => {
      const route: CachedRoute = fresh
        ? { kind: 'cached', key: `sumdb/${sumdb.key.name}/${tile}`, class: 'mutable', ttl: 0 }
        : { kind: 'cached', key: `sumdb/${sumdb.key.name}/${tile}`, class: 'immutable' };
      return (await pipeline.load(route, { url: new URL(tile, sumdb.url) })).body;
    };
  }

  /** A lookup answer, its signature checked once per stored version. */
  private answer(doc: LoadedDocument): LookupAnswer {
    const id = `${doc.etag}`;
    let answer = this.answers.get(id);
    if (!answer) {
      answer = parseLookup(doc.body, this.remote.sumdb!.key);
      if (this.answers.size >= ANSWERS) this.answers.delete(this.answers.keys().next().value!);
      this.answers.set(id, answer);
    }
    return answer;
  }
}

type SumdbPart = Extract<GoPath, { kind: 'sumdb' }>['what'];

/** A parse or signature failure of what the database sent, as the coded error a client is answered. */
function coded<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (isCacheForgeError(err)) throw err;
    throw cfError('CF_ERR_UPSTREAM_DIGEST_MISMATCH', `the checksum database's answer is refused: ${(err as Error).message}`);
  }
}

/** A hash check followed by the proof that the record giving the hash is trusted. */
class ProvedVerifier implements BodyVerifier {
  constructor(private readonly inner: BodyVerifier, private readonly prove: () => Promise<void>) {}
  update(chunk: Buffer): void { this.inner.update(chunk); }
  async finish(body: FinishedBody): Promise<void> {
    await this.inner.finish(body);
    await this.prove();
  }
}
