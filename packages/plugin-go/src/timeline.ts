import { cfError, isCacheForgeError, type Logger } from '@cacheforge/core';
import type { TreeHead } from './note.js';
import { checkConsistency, type Consistency, type TileReader } from './tlog.js';

/**
 * Where a tree head came from. A `latest` answer is the database's newest tree and must never be
 * older than the last one accepted; a lookup answer carries the tree it was read under, which may
 * be older (it was stored a while) but must still be a prefix of the newest.
 */
export type HeadSource = 'latest' | 'lookup';

/** Tree heads already proved to be on the timeline, by `<size>:<hash>`. */
const KNOWN = 1024;
/** How often a head that keeps moving under a check is checked again before giving up. */
const MOVES = 8;

const keyOf = (head: TreeHead) => `${head.size}:${head.hash.toString('base64')}`;
const describe = (head: TreeHead) => `${head.size} records (root ${head.hash.toString('base64')})`;

/**
 * The timeline of one checksum database as this cache has seen it, as the go command keeps it:
 * the newest signed tree head it verified, and every other head checked against it, so the
 * database can neither fork (show two trees that are not prefixes of each other) nor roll back
 * its `latest` without being refused. A newer head is accepted only once the newest known is
 * proved a prefix of it through its tiles; an older one only once it is proved a prefix of the
 * newest. The newest `latest` accepted is also the stored `sumdb/<name>/latest`, which makes
 * the timeline survive a restart (see the handler).
 */
export class TreeTimeline {
  /** The newest head accepted, from any source. */
  private newest: TreeHead | undefined;
  /** The size of the newest `latest` accepted (a `latest` below it is a rollback). */
  private latestSize = 0;
  private readonly known = new Set<string>();

  constructor(private readonly name: string, private readonly log: Logger) {}

  /** The newest head accepted (undefined before the first). */
  get head(): TreeHead | undefined {
    return this.newest;
  }

  /** The size of the newest `latest` answer accepted. */
  get latestAccepted(): number {
    return this.latestSize;
  }

  /**
   * Accepts a head whose signature was checked, or throws the coded refusal (logged) when it
   * forks from the timeline or, from `latest`, goes back on it. `readTile` reads the database's
   * tiles (through the cache). The first head ever seen is trusted as it is, as the go command
   * trusts the first head it sees.
   */
  async accept(head: TreeHead, source: HeadSource, readTile: TileReader): Promise<void> {
    for (let move = 0; move < MOVES; move++) {
      const newest = this.newest;
      if (source === 'latest' && head.size < this.latestSize) {
        throw this.refused(`its latest tree head went back to ${describe(head)}, below the ${this.latestSize} records it already showed`, head);
      }
      if (!newest) {
        this.install(head, source);
        return;
      }
      if (this.known.has(keyOf(head))) {
        this.noteLatest(head, source);
        return;
      }
      const [older, newer] = head.size <= newest.size ? [head, newest] : [newest, head];
      if (await this.consistency(older, newer, readTile, head) === 'fork') {
        throw this.refused(`its tree of ${describe(older)} is not a prefix of its tree of ${describe(newer)}`, head, newest);
      }
      if (head.size <= newest.size) {
        this.remember(head);
        this.noteLatest(head, source);
        return;
      }
      // Another head may have been installed while the tiles were read: check against that one.
      if (this.newest === newest) {
        this.install(head, source);
        return;
      }
    }
    throw cfError('CF_ERR_UPSTREAM_UNAVAILABLE', `the checksum database ${this.name}'s tree kept moving while it was checked`);
  }

  /** The relation of two heads; tiles that prove neither (they give no signed root) are refused too. */
  private async consistency(older: TreeHead, newer: TreeHead, readTile: TileReader, head: TreeHead): Promise<Consistency> {
    try {
      return await checkConsistency(older, newer, readTile);
    } catch (err) {
      // A tile that could not be read is the upstream's fault of the moment, not a proof of anything.
      if (isCacheForgeError(err)) throw err;
      throw this.refused(`${(err as Error).message}, so its tree of ${describe(newer)} cannot be checked against the one of ${describe(older)}`, head);
    }
  }

  private install(head: TreeHead, source: HeadSource): void {
    this.newest = head;
    this.remember(head);
    this.noteLatest(head, source);
  }

  private noteLatest(head: TreeHead, source: HeadSource): void {
    if (source === 'latest' && head.size > this.latestSize) this.latestSize = head.size;
  }

  private remember(head: TreeHead): void {
    if (this.known.size >= KNOWN) this.known.delete(this.known.values().next().value!);
    this.known.add(keyOf(head));
  }

  private refused(what: string, head: TreeHead, newest = this.newest): Error {
    const message = `the checksum database ${this.name} is not to be trusted: ${what}; nothing is verified against that tree`;
    this.log.error({
      sumdb: this.name, code: 'CF_ERR_UPSTREAM_DIGEST_MISMATCH', refused: { size: head.size, hash: head.hash.toString('base64') },
      newest: newest && { size: newest.size, hash: newest.hash.toString('base64') },
    }, `checksum database tree refused: ${message}`);
    return cfError('CF_ERR_UPSTREAM_DIGEST_MISMATCH', message);
  }
}
