import { createHash } from 'node:crypto';
import type { LookupAnswer, TreeHead } from './note.js';

/** The checksum database's tile height: each tile holds up to 2^8 hashes of one level. */
export const TILE_HEIGHT = 8;
const TILE_WIDTH = 1 << TILE_HEIGHT;

/**
 * Reads a tile's bytes (`tile/8/<level>/<index>[.p/<width>]`, below the database's URL). With
 * `fresh`, a stored copy is not trusted: the tile is asked of the database again (a copy stored
 * while the database served another tree may hold other hashes under the same name).
 */
export type TileReader = (path: string, fresh: boolean) => Promise<Buffer>;

const leafHash = (record: Buffer) => createHash('sha256').update(Buffer.of(0)).update(record).digest();
const nodeHash = (left: Buffer, right: Buffer) => createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();

/** A tile's path: the index in groups of three digits, all but the last prefixed `x`. */
export function tilePath(level: number, index: number, width: number): string {
  const digits = String(index).padStart(3, '0');
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end).padStart(3, '0'));
  const name = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `tile/${TILE_HEIGHT}/${level}/${name}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

/**
 * The hashes of one tree's complete subtrees, read from that tree's tiles (each tile read once).
 * Nothing read here is trusted until a root computed from it equals the tree's signed root.
 */
class TreeTiles {
  private readonly tiles = new Map<string, Promise<Buffer>>();

  constructor(private readonly size: number, private readonly readTile: TileReader, private readonly fresh: boolean) {}

  /** The hash of records [lo, hi): whole subtrees from the tiles, combined as RFC 6962 splits the range. */
  async range(lo: number, hi: number): Promise<Buffer> {
    const n = hi - lo;
    if ((n & (n - 1)) === 0 && lo % n === 0) return this.subtree(Math.log2(n), lo / n);
    const k = largestPowerBelow(n);
    return nodeHash(await this.range(lo, lo + k), await this.range(lo + k, hi));
  }

  /** The hash of the complete subtree `index` of 2^level records. */
  private async subtree(level: number, index: number): Promise<Buffer> {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const base = tileLevel * TILE_HEIGHT;
    // Hashes at level `base` under this subtree, combined up to `level`.
    const span = 2 ** (level - base);
    const first = index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, Math.floor(this.size / 2 ** base) - tileIndex * TILE_WIDTH);
    const path = tilePath(tileLevel, tileIndex, width);
    let tile = this.tiles.get(path);
    if (!tile) { tile = this.readTile(path, this.fresh); this.tiles.set(path, tile); }
    const bytes = await tile;
    if (bytes.length !== width * 32) throw new Error(`${path} holds ${bytes.length} bytes, not ${width * 32}`);
    let hashes: Buffer[] = [];
    const from = first - tileIndex * TILE_WIDTH;
    for (let i = from; i < from + span; i++) hashes.push(bytes.subarray(i * 32, i * 32 + 32));
    while (hashes.length > 1) hashes = Array.from({ length: hashes.length / 2 }, (_, i) => nodeHash(hashes[2 * i]!, hashes[2 * i + 1]!));
    return hashes[0]!;
  }
}

/**
 * Runs `attempt` over the tiles as stored, and once more over tiles asked of the database again
 * when the stored ones did not give the signed root: a tile stored while the database served
 * another tree must not make a good tree look bad forever.
 */
async function withFreshRetry<T>(size: number, readTile: TileReader, attempt: (tiles: TreeTiles) => Promise<T | undefined>): Promise<T | undefined> {
  return (await attempt(new TreeTiles(size, readTile, false))) ?? attempt(new TreeTiles(size, readTile, true));
}

/**
 * Proves that a lookup answer's record is in the signed tree it came with: the tree's root is
 * recomputed from the record's own hash and the sibling subtree hashes read from tiles (RFC 6962
 * inclusion, as the go command checks it). Throws when the root is not the signed one.
 */
export async function proveInclusion(answer: LookupAnswer, readTile: TileReader): Promise<void> {
  const root = async (tiles: TreeTiles, lo: number, hi: number): Promise<Buffer> => {
    if (hi - lo === 1) return leafHash(answer.record);
    const k = largestPowerBelow(hi - lo);
    return answer.id < lo + k
      ? nodeHash(await root(tiles, lo, lo + k), await tiles.range(lo + k, hi))
      : nodeHash(await tiles.range(lo, lo + k), await root(tiles, lo + k, hi));
  };
  const proved = await withFreshRetry(answer.tree.size, readTile, async (tiles) => (await root(tiles, 0, answer.tree.size)).equals(answer.tree.hash) || undefined);
  if (!proved) throw new Error(`record ${answer.id} is not in the signed tree of ${answer.tree.size} records`);
}

/** How an older tree head relates to a newer one of the same database. */
export type Consistency = 'prefix' | 'fork';

/**
 * Whether `older` is a prefix of `newer` (RFC 6962 consistency, as the go command checks
 * successive tree heads): the roots of both trees are computed from the same subtree hashes of
 * `newer`'s tiles. Those hashes count only once they give `newer`'s signed root; the root of
 * the first `older.size` records they then give must be `older`'s, or the database forked.
 * Throws when the tiles cannot be made to give `newer`'s root (nothing then is proved either way).
 */
export async function checkConsistency(older: TreeHead, newer: TreeHead, readTile: TileReader): Promise<Consistency> {
  const n = older.size;
  const t = newer.size;
  if (n > t) throw new Error(`a tree of ${n} records cannot be a prefix of one of ${t}`);
  if (n === 0) return 'prefix';
  if (n === t) return older.hash.equals(newer.hash) ? 'prefix' : 'fork';
  // The hashes of [lo, hi) in the old tree (the first n records) and in the new one, lo < n <= hi.
  const both = async (tiles: TreeTiles, lo: number, hi: number): Promise<[Buffer, Buffer]> => {
    if (n === hi) {
      const h = await tiles.range(lo, hi);
      return [h, h];
    }
    const k = largestPowerBelow(hi - lo);
    if (n <= lo + k) {
      const [o, h] = await both(tiles, lo, lo + k);
      return [o, nodeHash(h, await tiles.range(lo + k, hi))];
    }
    const left = await tiles.range(lo, lo + k);
    const [o, h] = await both(tiles, lo + k, hi);
    return [nodeHash(left, o), nodeHash(left, h)];
  };
  const oldRoot = await withFreshRetry(t, readTile, async (tiles) => {
    const [o, h] = await both(tiles, 0, t);
    return h.equals(newer.hash) ? o : undefined;
  });
  if (!oldRoot) throw new Error(`the database's tiles do not give the signed root of its tree of ${t} records`);
  return oldRoot.equals(older.hash) ? 'prefix' : 'fork';
}

function largestPowerBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
