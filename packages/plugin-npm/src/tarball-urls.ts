import { createHash } from 'node:crypto';

/** A `"tarball": "<url>"` member in raw JSON (escaped quotes inside strings never match). */
const TARBALL_MEMBER = /"tarball"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/** The file name a tarball URL ends in: what `/<name>/-/<file>` asks for. */
export function tarballFile(url: string): string {
  const path = url.replace(/\\\//g, '/').split(/[?#]/, 1)[0]!;
  const last = path.slice(path.lastIndexOf('/') + 1);
  try { return decodeURIComponent(last); } catch { return last; }
}

/** Where this remote serves a package's tarball `file`, under the base the client used. */
export function proxiedTarballUrl(base: string, name: string, file: string): string {
  return `${base}${name}/-/${encodeURIComponent(file)}`;
}

/**
 * Points every `dist.tarball` of a stored package document at this remote, by splicing the raw
 * JSON text: no parse and re-serialization, so the upstream's bytes stay as they were elsewhere.
 */
export function rewriteTarballUrls(document: string, name: string, base: string): string {
  return document.replace(TARBALL_MEMBER, (_member, url: string) => `"tarball":"${proxiedTarballUrl(base, name, tarballFile(url))}"`);
}

/** One stored document rewritten for one base URL, with what a hit sends. */
export interface RewrittenDocument {
  readonly bytes: Buffer;
  /** Strong validator: the stored bytes' digest plus the base, so two bases never share one. */
  readonly etag: string;
  readonly headerBlock: Readonly<Record<string, string>>;
}

/**
 * Rewritten documents by stored version and base URL, least recently used dropped past
 * `maxBytes`. NOTE: on the hot path of every package-document hit; a rewrite of a large document
 * costs milliseconds, a lookup here microseconds.
 */
export class RewrittenDocuments {
  private readonly entries = new Map<string, RewrittenDocument>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The rewritten document of stored version `storedEtag` under `base`, if it was made before. */
  find(key: string, storedEtag: string, base: string): RewrittenDocument | undefined {
    const id = `${key}\u0000${storedEtag}\u0000${base}`;
    const found = this.entries.get(id);
    if (found) {
      this.entries.delete(id);
      this.entries.set(id, found);
    }
    return found;
  }

  /** Keeps `bytes` as the rewritten document of `storedEtag` under `base` (unless too large). */
  add(key: string, storedEtag: string, base: string, bytes: Buffer, headers: Readonly<Record<string, string>>): RewrittenDocument {
    const etag = `"${storedEtag.replace(/^W\/|"/g, '')}.${createHash('sha1').update(base).digest('hex').slice(0, 10)}"`;
    const document: RewrittenDocument = { bytes, etag, headerBlock: { ...headers, etag, 'content-length': String(bytes.length), 'x-cache-status': 'HIT' } };
    if (bytes.length > this.maxBytes) return document;
    this.entries.set(`${key}\u0000${storedEtag}\u0000${base}`, document);
    this.bytes += bytes.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes.length;
    }
    return document;
  }
}
