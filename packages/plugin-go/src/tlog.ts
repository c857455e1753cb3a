import { createHash } from 'node:crypto';
import type { LookupAnswer } from './note.js';

/** The checksum database's tile height: each tile holds up to 2^8 hashes of one level. */
export const TILE_HEIGHT = 8;
const TILE_WIDTH = 1 << TILE_HEIGHT;

/** Reads a tile's bytes (`tile/8/<level>/<index>[.p/<width>]`, below the database's URL). */
export type TileReader = (path: string) => Promise<Buffer>;

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
 * Proves that a lookup answer's record is in the signed tree it came with: the tree's root is
 * recomputed from the record's own hash and the sibling subtree hashes read from tiles (RFC 6962
 * inclusion, as the go command checks it). Throws when the root is not the signed one.
 */
export async function proveInclusion(answer: LookupAnswer, readTile: TileReader): Promise<void> {
  const size = answer.tree.size;
  const tiles = new Map<string, Promise<Buffer>>();
  const stored = async (level: number, index: number): Promise<Buffer> => {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const base = tileLevel * TILE_HEIGHT;
    // Hashes at level `base` under this subtree, combined up to `level`.
    const span = 2 ** (level - base);
    const first = index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, Math.floor(size / 2 ** base) - tileIndex * TILE_WIDTH);
    const path = tilePath(tileLevel, tileIndex, width);
    let tile = tiles.get(path);
    if (!tile) { tile = readTile(path); tiles.set(path, tile); }
    const bytes = await tile;
    if (bytes.length !== width * 32) throw new Error(`${path} holds ${bytes.length} bytes, not ${width * 32}`);
    let hashes: Buffer[] = [];
    for (let i = first - tileIndex * TILE_WIDTH; i < first - tileIndex * TILE_WIDTH + span; i++) hashes.push(bytes.subarray(i * 32, i * 32 + 32));
    while (hashes.length > 1) hashes = Array.from({ length: hashes.length / 2 }, (_, i) => nodeHash(hashes[2 * i]!, hashes[2 * i + 1]!));
    return hashes[0]!;
  };
  // The hash of leaves [lo, hi), which holds no record being proved.
  const range = async (lo: number, hi: number): Promise<Buffer> => {
    const n = hi - lo;
    if ((n & (n - 1)) === 0 && lo % n === 0) return stored(Math.log2(n), lo / n);
    const k = largestPowerBelow(n);
    return nodeHash(await range(lo, lo + k), await range(lo + k, hi));
  };
  const root = async (lo: number, hi: number): Promise<Buffer> => {
    if (hi - lo === 1) return leafHash(answer.record);
    const k = largestPowerBelow(hi - lo);
    return answer.id < lo + k ? nodeHash(await root(lo, lo + k), await range(lo + k, hi)) : nodeHash(await range(lo, lo + k), await root(lo + k, hi));
  };
  const got = await root(0, size);
  if (!got.equals(answer.tree.hash)) throw new Error(`record ${answer.id} is not in the signed tree of ${size} records`);
}

function largestPowerBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
