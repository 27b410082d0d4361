/**
 * Recognises stream entries the risk window has already counted, so that a redelivered entry
 * (a reclaim, a re-read of the pending list, the overlap between a restart's rebuild and the
 * group's pending entries) is not counted twice.
 *
 * Choice (SPEC §6 "a redelivered entry is not counted twice"): stream ids only grow in the order
 * the group delivers new entries, so an id above the highest one counted so far is new — one
 * string comparison, no bookkeeping beyond remembering it. Only an id at or below that mark can
 * be a repeat; it is looked up among the last `capacity` ids counted. A plain ring of strings
 * records every counted id (one array store per event); the `Set` that makes lookups O(1) is
 * built only when a lookup happens and dropped again after `capacity` quiet entries, so the hot
 * path never pays for hashing.
 *
 *   ring (capacity 8):  [ id9 | id10 | id3 | id4 | id5 | id6 | id7 | id8 ]
 *                                    ▲ next write overwrites the oldest
 *   maxId = id10: an entry with id ≤ id10 is looked up in the ring; one above it is new.
 *
 * Bound: an id counted more than `capacity` entries ago is forgotten and would count again; the
 * consumer keeps one batch in flight, so pending entries are always among the last few hundred.
 */

/**
 * Orders Redis stream ids (`<ms>-<seq>`, no leading zeros). Ids of other shapes (file replay
 * line numbers, test ids) still get a total order: shorter numbers first, then lexicographic.
 */
export function compareStreamIds(a: string, b: string): number {
  const ia = a.indexOf('-');
  // Fast path: same-length parts compare correctly as strings.
  if (a.length === b.length && (ia < 0 ? b.indexOf('-') < 0 : b.charCodeAt(ia) === 45 && b.indexOf('-') === ia)) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const ib = b.indexOf('-');
  if (ia < 0 || ib < 0) return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  if (ia !== ib) return ia - ib;
  const msA = a.slice(0, ia);
  const msB = b.slice(0, ib);
  if (msA !== msB) return msA < msB ? -1 : 1;
  return a.length - b.length;
}

export class RecentIds {
  readonly capacity: number;
  private readonly ring: string[];
  private next = 0;
  private maxId: string | undefined = undefined;
  private maxDash = -1;
  private index: Set<string> | undefined = undefined;
  private quiet = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`recent id capacity must be a positive integer (got ${capacity})`);
    this.capacity = capacity;
    this.ring = new Array<string>(capacity).fill('');
  }

  /** True when `id` was already counted (and is still remembered); otherwise remembers it. */
  seen(id: string): boolean {
    const max = this.maxId;
    let newer: boolean;
    let sameShape = false;
    if (max === undefined) newer = true;
    else if (id.length === max.length && this.maxDash >= 0 && id.charCodeAt(this.maxDash) === 45) {
      // Same length, dash in the same place: plain string order is stream id order.
      sameShape = true;
      newer = id > max;
    } else newer = compareStreamIds(id, max) > 0;
    if (newer) {
      if (!sameShape) this.maxDash = id.indexOf('-');
      this.maxId = id;
      this.remember(id);
      return false;
    }
    if (this.lookup(id)) return true;
    this.remember(id);
    return false;
  }

  /** Ids currently remembered (for the memory-bound test and the snapshot). */
  get size(): number {
    let n = 0;
    for (const id of this.ring) if (id !== '') n++;
    return n;
  }

  /** Entries in the lookup index (0 when it is not built). */
  get indexSize(): number {
    return this.index === undefined ? 0 : this.index.size;
  }

  private lookup(id: string): boolean {
    if (this.index === undefined) {
      this.index = new Set<string>();
      for (const r of this.ring) if (r !== '') this.index.add(r);
    }
    this.quiet = 0;
    return this.index.has(id);
  }

  private remember(id: string): void {
    const old = this.ring[this.next] ?? '';
    this.ring[this.next] = id;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.index !== undefined) {
      // Ring entries are unique (a remembered id is never remembered again), so deleting the
      // overwritten one cannot remove a live entry.
      if (old !== '') this.index.delete(old);
      this.index.add(id);
      if (++this.quiet > this.capacity) this.index = undefined;
    }
  }
}
