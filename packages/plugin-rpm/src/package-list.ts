import type { DigestAlgorithm, Expectation, ExpectedDigest } from '@cacheforge/core';

const ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha1', 'sha512', 'md5'];
const NONE = 255;

/**
 * The packages of one primary index by `location href`, packed: per package one map slot for its
 * href (a string of its own, never a slice that would keep the primary's decoded text alive), its
 * checksum as bytes in one shared buffer and its size in a typed array, instead of an object, an
 * array, a digest object and a 64-character hex string each. About 150 bytes a package, so
 * Fedora's Everything (~75,000 packages) takes ~11 MB; {@link PackageList.bytes} says how much.
 */
export class PackageList {
  private readonly slots = new Map<string, number>();
  private sizes = new Float64Array(1024);
  private algorithms = new Uint8Array(1024);
  private digestAt = new Uint32Array(1024);
  private digests = Buffer.alloc(1024 * 32);
  private digestBytes = 0;
  private hrefChars = 0;
  /** Checksums whose length is not their algorithm's (a broken primary), by slot. */
  private readonly odd = new Map<number, ExpectedDigest>();

  get size(): number {
    return this.slots.size;
  }

  /** Memory held, roughly (bytes): the arrays, the digest buffer, the hrefs and the map's slots. */
  get bytes(): number {
    return this.sizes.byteLength + this.algorithms.byteLength + this.digestAt.byteLength + this.digests.length + this.hrefChars + this.slots.size * 48;
  }

  /** Adds (or replaces) a package; `size` undefined when primary gives none. */
  set(href: string, digest: ExpectedDigest | undefined, size: number | undefined): void {
    let slot = this.slots.get(href);
    if (slot === undefined) {
      slot = this.slots.size;
      this.grow(slot + 1);
      this.slots.set(copy(href), slot);
      this.hrefChars += href.length + 16;
    }
    this.sizes[slot] = size ?? -1;
    this.odd.delete(slot);
    const algorithm = digest ? ALGORITHMS.indexOf(digest.algorithm) : -1;
    if (!digest || algorithm < 0) {
      this.algorithms[slot] = NONE;
      return;
    }
    if (digest.hex.length !== HEX_BYTES[digest.algorithm] * 2) {
      // Not the algorithm's length: kept as written, so the package fails its check as before.
      this.algorithms[slot] = NONE;
      this.odd.set(slot, { ...digest });
      return;
    }
    const length = digest.hex.length / 2;
    if (this.digestBytes + length > this.digests.length) {
      const bigger = Buffer.alloc(Math.max(this.digests.length * 2, this.digestBytes + length));
      this.digests.copy(bigger, 0, 0, this.digestBytes);
      this.digests = bigger;
    }
    this.digests.write(digest.hex, this.digestBytes, 'hex');
    this.algorithms[slot] = algorithm;
    this.digestAt[slot] = this.digestBytes;
    this.digestBytes += length;
  }

  get(href: string): Expectation | undefined {
    const slot = this.slots.get(href);
    if (slot === undefined) return undefined;
    const size = this.sizes[slot]!;
    const algorithm = this.algorithms[slot]!;
    const digests: ExpectedDigest[] = [];
    const odd = this.odd.get(slot);
    if (odd) digests.push(odd);
    else if (algorithm !== NONE) {
      const name = ALGORITHMS[algorithm]!;
      const at = this.digestAt[slot]!;
      digests.push({ algorithm: name, hex: this.digests.toString('hex', at, at + HEX_BYTES[name]) });
    }
    return { digests, size: size < 0 ? undefined : size };
  }

  private grow(needed: number): void {
    if (needed <= this.sizes.length) return;
    const length = this.sizes.length * 2;
    const sizes = new Float64Array(length); sizes.set(this.sizes); this.sizes = sizes;
    const algorithms = new Uint8Array(length); algorithms.set(this.algorithms); this.algorithms = algorithms;
    const digestAt = new Uint32Array(length); digestAt.set(this.digestAt); this.digestAt = digestAt;
  }
}

const HEX_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha1: 20, sha512: 64, md5: 16 };

/** A string of its own: a regex match is a slice that keeps the whole text it was cut from. */
function copy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
