import type { Readable } from 'node:stream';
import type { Logger } from '@cacheforge/core';
import { decompressed, parsePrimary, type PrimaryIndex } from './primary-index.js';
import type { RepomdEntry } from './repomd.js';

/** Parsed primary indexes kept in memory (each ~ 11 MB for Fedora's Everything, see PackageList). */
const KEPT = 4;

/**
 * Parsed primary indexes by repository and primary file, newest use last; a parse under way is
 * shared by every package that waits on it.
 */
export class PrimaryIndexes {
  private readonly parsed = new Map<string, Promise<PrimaryIndex>>();

  constructor(private readonly log: Logger) {}

  get(root: string, primary: RepomdEntry, open: () => Promise<Readable>): Promise<PrimaryIndex> {
    const key = `${root}\u0000${primary.href}`;
    let index = this.parsed.get(key);
    if (index) {
      this.parsed.delete(key);
    } else {
      index = this.parse(root, primary, open);
      index.catch(() => this.parsed.delete(key));
    }
    this.parsed.set(key, index);
    while (this.parsed.size > KEPT) this.parsed.delete(this.parsed.keys().next().value!);
    return index;
  }

  private async parse(root: string, primary: RepomdEntry, open: () => Promise<Readable>): Promise<PrimaryIndex> {
    const { index, figures } = await parsePrimary(await decompressed(primary.href, await open()));
    this.log.info({ root, primary: primary.href, packages: figures.packages, ms: Math.round(figures.millis), bytes: figures.bytes, heldBytes: index.bytes }, 'read the primary index');
    return index;
  }
}
