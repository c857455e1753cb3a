import type { IncomingHttpHeaders } from 'node:http';
import { cfError, hasCode } from '../../errors/errors.js';
import type {
  CachedRoute, DocumentExpectation, Expectation, ExpectedDigest, LoadedDocument, ServeOptions, SidecarExpectation, UpstreamRequest, Verification,
} from '../../contract/index.js';
import { HEX_LENGTH } from './body-check.js';

/** Reads another route whole through the same pipeline (a sidecar, an index document). */
export type DocumentLoader = (route: CachedRoute, upstream: UpstreamRequest, options: ServeOptions & { maxBytes?: number }) => Promise<LoadedDocument>;

/** The most a checksum sidecar may hold. */
const SIDECAR_MAX_BYTES = 4096;

/**
 * Turns a route's {@link Verification} into what its bytes must be. Called only on a miss, inside
 * the key's lock: a sidecar or an index document is then loaded through the pipeline (stored,
 * revalidated, shared like any route), so a hit never pays for it.
 */
export async function expectationOf(verify: Verification | undefined, load: DocumentLoader, what: string): Promise<Expectation> {
  switch (verify?.kind) {
    case undefined:
    case 'header':
      return {};
    case 'known':
      return verify;
    case 'sidecar':
      return fromSidecars(verify, load, what);
    case 'document':
      return fromDocument(verify, load, what);
  }
}

/** The digest an upstream header announces (`sha256:<hex>`), when the route names such a header. */
export function expectationFromHeader(verify: Verification | undefined, headers: IncomingHttpHeaders): Expectation | undefined {
  if (verify?.kind !== 'header') return undefined;
  const value = headers[verify.header];
  const match = typeof value === 'string' ? /^(sha256|sha512):([a-f0-9]+)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  const algorithm = match[1] as 'sha256' | 'sha512';
  return match[2]!.length === HEX_LENGTH[algorithm] ? { digests: [{ algorithm, hex: match[2]! }] } : undefined;
}

async function fromSidecars(verify: SidecarExpectation, load: DocumentLoader, what: string): Promise<Expectation> {
  for (const sidecar of verify.sidecars) {
    let document: LoadedDocument;
    try {
      document = await load(sidecar.route, sidecar.upstream, { maxBytes: SIDECAR_MAX_BYTES });
    } catch (err) {
      if (hasCode(err, 'CF_ERR_UPSTREAM_NOT_FOUND')) continue;
      throw err;
    }
    return { digests: [parseSidecar(document.body, sidecar.algorithm, sidecar.route.key)] };
  }
  if (verify.missing === 'fail') {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `${what}: the upstream publishes no checksum (${verify.sidecars.map((s) => s.route.key).join(', ')})`);
  }
  return {};
}

/** The first word of a checksum file: `<hex>` or `<hex>  <file name>`. */
function parseSidecar(body: Buffer, algorithm: ExpectedDigest['algorithm'], key: string): ExpectedDigest {
  const word = /^\s*([A-Fa-f0-9]+)(\s|$)/.exec(body.toString('latin1'))?.[1];
  if (!word || word.length !== HEX_LENGTH[algorithm]) {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `${key} is not a ${algorithm} checksum file (it should start with ${HEX_LENGTH[algorithm]} hex digits)`);
  }
  return { algorithm, hex: word.toLowerCase() };
}

async function fromDocument(verify: DocumentExpectation, load: DocumentLoader, what: string): Promise<Expectation> {
  const options = { maxBytes: verify.maxBytes };
  let document = await load(verify.route, verify.upstream, options);
  let found = verify.pick(document);
  // Not listed in a copy that was stored before: the artifact may be newer. Ask once more.
  if (!found && document.cacheStatus !== 'MISS' && document.cacheStatus !== 'REVALIDATED') {
    document = await load({ ...verify.route, ttl: 0 }, verify.upstream, options);
    found = verify.pick(document);
  }
  if (found) return found;
  if (verify.unlisted === 'length') return {};
  if (typeof verify.unlisted === 'function') throw verify.unlisted();
  throw cfError('CF_ERR_UPSTREAM_NOT_FOUND', `${what} is not listed in ${verify.route.key}`, { path: what });
}
