import {
  cfError, type ArtifactRequest, type ArtifactResponse, type CachedRoute, type Expectation, type FetchContext, type Handler,
  type LoadedDocument, type Logger, type PassthroughRoute, type PluginCounter, type Route, type Verification,
} from '@cacheforge/core';
import { parseApkIndex, type IndexRecord } from './apkindex.js';
import { ControlMemberVerifier } from './control-verifier.js';
import { INDEX_FILE, parsePath } from './paths.js';

/** Parsed indexes kept for look-ups, by key and stored version. */
const INDEXES = 64;

/** What one request's verification saw, so the handler can tell an unlisted package once it is served. */
interface Lookup { listed?: boolean; index?: string }

/**
 * One Alpine remote. `APKINDEX.tar.gz` is a mutable document, revalidated by Cache Forge itself
 * after its TTL (apk sends no validators); `.apk` files are immutable, verified before they are
 * stored against the record their directory's index gives (`S:` and `C:`), the index read through
 * the pipeline. Both are stored and served byte for byte, so their signatures stay valid.
 */
export class AlpineHandler implements Handler {
  private readonly indexes = new Map<string, Map<string, IndexRecord>>();

  constructor(private readonly upstream: URL, private readonly log: Logger, private readonly unlisted?: PluginCounter) {}

  canHandle(req: ArtifactRequest): Route | undefined {
    const path = parsePath(req);
    if (!path) return undefined;
    if (req.search) return { kind: 'refused', status: 404, reason: 'apk repositories take no query string' };
    switch (path.kind) {
      case 'index': return { kind: 'cached', key: req.path, class: 'mutable' };
      case 'package': return { kind: 'cached', key: req.path, class: 'immutable' };
      case 'file': return { kind: 'cached', key: req.path };
    }
  }

  async fetch(req: ArtifactRequest, route: CachedRoute | PassthroughRoute, ctx: FetchContext): Promise<ArtifactResponse> {
    const path = parsePath(req);
    if (!path || route.kind !== 'cached') throw cfError('CF_ERR_NOT_FOUND', `${req.path} is not part of an apk repository`);
    const url = this.upstream.href + req.rawPath;
    if (path.kind !== 'package') return ctx.pipeline.serve(req, route, { url });
    const lookup: Lookup = {};
    const response = await ctx.pipeline.serve(req, route, { url }, { verify: this.verification(path.dir, path.rawDir, path.file, lookup) });
    // Only a fill asks the index: `listed` is set when this request stored the package.
    if (lookup.listed === false) {
      this.unlisted?.inc();
      this.log.warn({ path: req.path, index: lookup.index }, 'no stored APKINDEX lists this package: it is stored checked on its length only');
    }
    return response;
  }

  /** The package's record in its directory's APKINDEX, read only on a miss. */
  private verification(dir: string, rawDir: string, file: string, lookup: Lookup): Verification {
    const key = dir + INDEX_FILE;
    return {
      kind: 'document',
      route: { kind: 'cached', key, class: 'mutable' },
      upstream: { url: this.upstream.href + rawDir + INDEX_FILE },
      pick: (doc) => {
        const record = this.records(key, doc).get(file);
        lookup.listed = record !== undefined;
        lookup.index = key;
        return record && expectationOf(record);
      },
      unlisted: 'length',
    };
  }

  private records(key: string, doc: LoadedDocument): Map<string, IndexRecord> {
    const id = `${key}\u0000${doc.etag}`;
    let records = this.indexes.get(id);
    if (!records) {
      records = parseApkIndex(doc.body, key);
      if (this.indexes.size >= INDEXES) this.indexes.delete(this.indexes.keys().next().value!);
      this.indexes.set(id, records);
    }
    return records;
  }
}

function expectationOf(record: IndexRecord): Expectation {
  const checksum = record.checksum;
  // Q1 is SHA1 (apk-tools 2); another prefix is a checksum this version does not know: size only.
  const verifier = checksum?.startsWith('Q1') ? () => new ControlMemberVerifier(checksum) : undefined;
  return { size: record.size, verifier };
}
