import type { CachedRoute } from './request.js';
import type { LoadedDocument, UpstreamRequest } from './documents.js';

/** The digest algorithms a format may publish for its artifacts. */
export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512' | 'md5';

/** A digest the upstream's bytes must match before they are committed. */
export interface ExpectedDigest {
  readonly algorithm: DigestAlgorithm;
  /** Hex, either case. */
  readonly hex: string;
}

/**
 * What an artifact's bytes must be before they are committed. Every part given is checked; an
 * empty expectation checks only that the body is as long as the upstream announced.
 */
export interface Expectation {
  /** Digests of the whole body; every one must match. */
  readonly digests?: readonly ExpectedDigest[];
  /** The exact size in bytes (an index's `Size:`), checked besides the upstream's Content-Length. */
  readonly size?: number;
  /** A check of the format's own, for digests that cover only part of the body (apk's control member). */
  readonly verifier?: () => BodyVerifier;
  /** Where the upstream keeps these bytes, when the index says so (npm's `dist.tarball`). */
  readonly url?: URL | string;
}

/**
 * A streaming check of a format's own. It sees every chunk as it arrives, then the finished body
 * before it is committed, and may read that body by position (a zip's central directory is at its
 * end). It throws, or rejects, with a reason when the bytes are not what they must be: the fill
 * then fails with `CF_ERR_UPSTREAM_DIGEST_MISMATCH`, is retried once, and nothing is stored.
 */
export interface BodyVerifier {
  update(chunk: Buffer): void;
  finish(body: FinishedBody): void | Promise<void>;
}

/** The complete, not yet committed body, as a verifier may read it. */
export interface FinishedBody {
  readonly size: number;
  /** The sha256 of the bytes (hex). */
  readonly sha256: string;
  /** Reads up to `length` bytes at `position`. */
  read(position: number, length: number): Promise<Buffer>;
}

/**
 * How a cached route's bytes are verified before commit (`ServeOptions.verify`). The expectation
 * is known now, or announced by an upstream header, or found lazily, only on a miss, in another
 * file fetched through the pipeline like any other: a checksum sidecar (maven's `.sha1`) or an
 * index document (npm's package document, a PyPI page, apt's `Packages`). Those are cached and
 * revalidated by their own routes, so a hit never reads them and a miss usually finds them stored.
 */
export type Verification = KnownExpectation | HeaderExpectation | SidecarExpectation | DocumentExpectation;

/** An expectation known when the request is classified (a blob named by its digest). */
export interface KnownExpectation extends Expectation {
  readonly kind: 'known';
}

/** The digest an upstream response header carries as `<algorithm>:<hex>` (`docker-content-digest`). */
export interface HeaderExpectation {
  readonly kind: 'header';
  /** Lowercase header name. */
  readonly header: string;
}

/** One checksum file beside the artifact. */
export interface Sidecar {
  readonly route: CachedRoute;
  readonly upstream: UpstreamRequest;
  readonly algorithm: DigestAlgorithm;
}

/**
 * Checksum files beside the artifact, in order of preference: the first the upstream has wins.
 * Its first word is the hex digest (`<hex>` or `<hex>  <file name>`, as maven and `sha256sum` write).
 */
export interface SidecarExpectation {
  readonly kind: 'sidecar';
  readonly sidecars: readonly Sidecar[];
  /**
   * When the upstream publishes none of them: `'length'` stores the body checked on its length
   * only (the default), `'fail'` refuses it with 502.
   */
  readonly missing?: 'length' | 'fail';
}

/** An index document that lists the artifact with its digests. */
export interface DocumentExpectation {
  readonly kind: 'document';
  readonly route: CachedRoute;
  readonly upstream: UpstreamRequest;
  /** Largest document accepted (default 64 MiB). */
  readonly maxBytes?: number;
  /**
   * The expectation the document gives this artifact, or `undefined` when it does not list it.
   * Pure and cheap: it is called again after the document is revalidated.
   */
  pick(document: LoadedDocument): Expectation | undefined;
  /**
   * When the document does not list the artifact, even once revalidated (a version published after
   * it was stored): `'not-found'` answers 404 (the default), `'length'` stores the body checked on
   * its length only. A function returns the error to answer with.
   */
  readonly unlisted?: 'not-found' | 'length' | (() => Error);
}
