/** How an {@link Lru} measures and bounds what it holds. */
export interface LruOptions<V> {
  /** The budget of the sizes of all values together. */
  readonly maxBytes: number;
  /** The most values held, whatever their size. Default: no bound. */
  readonly maxEntries?: number;
  /** A value's share of `maxBytes` (its bytes); read when it is stored, updated or shed. */
  readonly sizeOf: (value: V) => number;
  /**
   * To free bytes, lightens a value instead of evicting it (drops its bytes, keeps what is cheap
   * to hold): the least recently used values are lightened first. Absent: they are evicted.
   */
  readonly shed?: (value: V) => V;
}

interface Slot<V> {
  value: V;
  size: number;
}

/**
 * A least-recently-used map bounded by the total size of its values (and optionally by their
 * count). A Map keeps insertion order, so re-inserting on use makes the first key the least
 * recently used: every operation is O(1) but eviction, which walks from that end.
 */
export class Lru<K, V> {
  private readonly slots = new Map<K, Slot<V>>();
  private total = 0;
  private readonly maxEntries: number;

  constructor(private readonly options: LruOptions<V>) {
    this.maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
  }

  /** The value under `key`, now the most recently used. */
  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** The value under `key`, leaving its recency as it is. */
  peek(key: K): V | undefined {
    return this.slots.get(key)?.value;
  }

  /** Stores `value` as the most recently used, then evicts (or sheds) until within bounds. */
  set(key: K, value: V): void {
    this.delete(key);
    const size = this.options.sizeOf(value);
    this.slots.set(key, { value, size });
    this.total += size;
    this.evict();
  }

  /**
   * Replaces the value under `key` (or records that it grew) without making it more recent, then
   * evicts until within bounds. False when `key` is absent.
   */
  update(key: K, value: V): boolean {
    const slot = this.slots.get(key);
    if (!slot) return false;
    this.resize(slot, value);
    this.evict();
    return true;
  }

  delete(key: K): boolean {
    const slot = this.slots.get(key);
    if (!slot) return false;
    this.total -= slot.size;
    this.slots.delete(key);
    return true;
  }

  /** The keys held, oldest first (a snapshot: deleting while iterating is safe). */
  keys(): K[] {
    return [...this.slots.keys()];
  }

  /** How many values are held. */
  get size(): number {
    return this.slots.size;
  }

  /** The total size of the values held. */
  get bytes(): number {
    return this.total;
  }

  private resize(slot: Slot<V>, value: V): void {
    this.total -= slot.size;
    slot.value = value;
    slot.size = this.options.sizeOf(value);
    this.total += slot.size;
  }

  private evict(): void {
    const { maxBytes, shed } = this.options;
    for (const [key, slot] of this.slots) {
      if (this.total <= maxBytes && this.slots.size <= this.maxEntries) return;
      if (this.slots.size > this.maxEntries || !shed) this.delete(key);
      else if (slot.size > 0) this.resize(slot, shed(slot.value));
    }
  }
}
