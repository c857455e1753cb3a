import {
  cfError, memoryEntity, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type FetchContext, type Handler,
  type BodyVerifier, type FinishedBody, type LoadedDocument, type PassthroughRoute, type Pipeline, type Route, type Verification,
} from '@cacheforge/core';
import { ModVerifier, ZipVerifier } from './dirhash.js';
import { h1Of, parseLookup, type LookupAnswer, type VerifierKey } from './note.js';
import { parsePath, unescapeModule, type GoPath } from './paths.js';
import type { ModulePatterns } from './patterns.js';
import { proveInclusion } from './tlog.js';

/** How long a lookup answer and the tree head are reused before asking the database again. */
const LOOKUP_TTL_MS = 10 * 60_000;
const LATEST_TTL_MS = 60_000;
/** Parsed lookup answers kept (by stored version). */
const ANSWERS = 1024;

/** What one go remote serves. */
export interface GoRemote {
  readonly upstream: URL;
  /** The checksum database, with the key its tree heads are signed with; absent: length only. */
  readonly sumdb?: { readonly url: URL; readonly key: VerifierKey };
  readonly noSumCheck: ModulePatterns;
}

type VersionPath = Extract<GoPath, { kind: 'version' }>;

/**
 * One GOPROXY remote. Version lists and `@latest` are mutable documents; `.info`, `.mod` and
 * `.zip` are immutable, and `.mod` and `.zip` are checked against the `h1:` hashes of the
 * checksum database's record for them (its tree head signature checked) before they are stored.
 * The database itself is proxied at `sumdb/<name>/`, so clients that reach only this cache can
 * check what it serves with `GOSUMDB` at its default.
 */
export class GoHandler implements Handler {
  private readonly answers = new Map<string, LookupAnswer>();
  /** Lookup answers (by stored version) whose record was proved to be in their signed tree. */
  private readonly proved = new Set<string>();

  constructor(private readonly remote: GoRemote) {}

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
    if (path.kind === 'sumdb') {
      // The go command asks this before using a proxied database; it needs no upstream.
      if (path.what === 'supported') return { status: 200, cacheStatus: 'HIT', entity: memoryEntity(Buffer.alloc(0), { contentType: 'text/plain' }) };
      return ctx.pipeline.serve(req, route, { url: new URL(path.rest, this.remote.sumdb!.url) });
    }
    const url = new URL(req.path, this.remote.upstream);
    if (path.kind !== 'version' || path.ext === 'info') return ctx.pipeline.serve(req, route, { url });
    return ctx.pipeline.serve(req, route, { url }, { verify: this.verification(path, ctx.pipeline) });
  }

  private verification(path: VersionPath, pipeline: Pipeline): Verification {
    const sumdb = this.remote.sumdb;
    const module = unescapeModule(path.module);
    if (!sumdb || this.remote.noSumCheck.matches(module)) return { kind: 'known' };
    const lookup = `lookup/${path.module}@${path.version}`;
    const version = unescapeModule(path.version);
    const ext = path.ext as 'mod' | 'zip';
    return {
      kind: 'document',
      route: { kind: 'cached', key: `sumdb/${sumdb.key.name}/${lookup}`, class: 'mutable', ttl: LOOKUP_TTL_MS },
      upstream: { url: new URL(lookup, sumdb.url) },
      maxBytes: 64 * 1024,
      pick: (doc) => {
        const answer = this.answer(doc, sumdb.key);
        const h1 = h1Of(answer, module, version, ext);
        if (!h1) return undefined;
        const prove = () => this.prove(doc.etag, answer, pipeline);
        return { verifier: () => new ProvedVerifier(ext === 'mod' ? new ModVerifier(h1) : new ZipVerifier(h1), prove) };
      },
      unlisted: () => cfError('CF_ERR_UPSTREAM_DIGEST_MISMATCH', `the checksum database's record for ${module}@${version} has no hash of its ${ext}`),
    };
  }

  /** Proves a lookup answer's record is in its signed tree, reading tiles through the cache. */
  private async prove(etag: string | undefined, answer: LookupAnswer, pipeline: Pipeline): Promise<void> {
    const id = `${etag}`;
    if (etag !== undefined && this.proved.has(id)) return;
    const sumdb = this.remote.sumdb!;
    await proveInclusion(answer, async (tile) => {
      const doc = await pipeline.load({ kind: 'cached', key: `sumdb/${sumdb.key.name}/${tile}`, class: 'immutable' }, { url: new URL(tile, sumdb.url) });
      return doc.body;
    });
    if (this.proved.size >= ANSWERS) this.proved.delete(this.proved.values().next().value!);
    this.proved.add(id);
  }

  /** A lookup answer, its signature checked once per stored version. */
  private answer(doc: LoadedDocument, key: VerifierKey): LookupAnswer {
    const id = `${doc.etag}`;
    let answer = this.answers.get(id);
    if (!answer) {
      answer = parseLookup(doc.body, key);
      if (this.answers.size >= ANSWERS) this.answers.delete(this.answers.keys().next().value!);
      this.answers.set(id, answer);
    }
    return answer;
  }
}

/** A hash check followed by the proof that the record giving the hash is in the signed tree. */
class ProvedVerifier implements BodyVerifier {
  constructor(private readonly inner: BodyVerifier, private readonly prove: () => Promise<void>) {}
  update(chunk: Buffer): void { this.inner.update(chunk); }
  async finish(body: FinishedBody): Promise<void> {
    await this.inner.finish(body);
    await this.prove();
  }
}
