/**
 * Recognises stream entries the risk window has already counted, so that a redelivered entry
 * (a reclaim, a re-read of the pending list, the overlap between a restart's rebuild and the
 * group's pending entries) is not counted twice.
 *
 * Choice ("a redelivered entry is not counted twice"): stream ids only grow in the order
 * the group delivers new entries, so an id above the highest one counted so far is new — one
 * comparison of numbers, no bookkeeping beyond remembering it. Events of a packed entry are
 * addressed `<ms>-<seq>/<index>` (events/packed-entry.ts) and ordered by entry id, then index. Only an id at or below that mark can
 * be a repeat; it is looked up among the last `capacity` ids counted. A ring records every
 * counted id; the `Set` that makes lookups O(1) is built only when a lookup happens and dropped
 * again after `capacity` quiet entries, so the hot path never pays for hashing.
 *
 * The ring keeps each id's numbers (decode read them: `Envelope.idMs`, `idSeq`, `idIndex`; the
 * sequence and index share one double as `seq · 2^21 + index + 1`), not its string. A ring of 65,536 strings kept every id alive for the last 65,536 events — about two
 * seconds at 30k events/s, long enough for the young generation to promote nearly all of
 * them — and that promoted garbage raised the soak's RSS by ~30 MB. Ids of any other shape (tests, other producers' explicit ids) keep their string in
 * a side map, keyed by ring slot.
 *
 *   ring (capacity 8):   ms  [ 9 | 10 | 3 | 4 | 5 | 6 | 7 | 8 ]
 *                        seq [ 0 |  0 | 0 | 0 | 1 | 0 | 0 | 0 ]   (index 0 and none: 2^21·seq + 1 and + 0)
 *                                      ▲ next write overwrites the oldest
 *   max = 10-0: an entry with id ≤ 10-0 is looked up in the ring; one above it is new.
 *
 * Bound: an id counted more than `capacity` entries ago is forgotten and would count again
 * (docs/risk-model.md, *Redelivery*, says when that can happen).
 */
import { compareStreamIds, streamIdIndex, streamIdMs, streamIdSeq } from '../../stream-id.js';

/** A stream id and, when decode read them, its numbers (`Envelope` is one). */
export interface StreamIdOf {
  readonly id: string;
  readonly idMs?: number;
  readonly idSeq?: number;
  readonly idIndex?: number;
}

/** `seq` of a slot whose id is not `<ms>-<seq>[/<index>]` in canonical digits: its text is in `odd`. */
const ODD = -1;
/** Sequence and index in one double: exact while seq < 2^31 and index < 2^21 - 1 (2^52 in all). */
const INDEX_SPAN = 2 ** 21;
const MAX_SEQ = 2 ** 31;

export class RecentIds {
  readonly capacity: number;
  private readonly ms: Float64Array;
  private readonly seq: Float64Array;
  private readonly odd = new Map<number, string>();
  private next = 0;
  private filled = 0;
  private maxId: string | undefined = undefined;
  /** The highest id's numbers (`maxSx` as stored in `seq`); maxSx is ODD when it has none. */
  private maxMs = -1;
  private maxSx = ODD;
  private index: Set<string> | undefined = undefined;
  private quiet = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`recent id capacity must be a positive integer (got ${capacity})`);
    this.capacity = capacity;
    this.ms = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
  }

  /**
   * True when `entry.id` was already counted (and is still remembered); otherwise remembers it.
   * `idMs`, `idSeq` and `idIndex` are the id's numbers when the caller has them (decode read
   * them); absent (or -1) `idMs` or `idSeq` lets the ring read them from the id. `idIndex` is -1
   * (or absent) for an entry id alone. The entry itself is passed, not its numbers: V8 allocates
   * a heap number for every double passed to a call it does not inline, per event here.
   */
  seen(entry: StreamIdOf): boolean {
    // The common case first, in a function small enough for V8 to inline at the caller: an id
    // with its numbers, above every id counted so far. Everything else takes the general path,
    // which decides the same way.
    const ms = entry.idMs ?? -1;
    const seq = entry.idSeq ?? -1;
    const index = entry.idIndex ?? -1;
    if (
      ms >= 0 &&
      seq >= 0 &&
      seq < MAX_SEQ &&
      index < INDEX_SPAN - 1 &&
      this.maxSx !== ODD &&
      this.maxId !== undefined
    ) {
      const sx = seq * INDEX_SPAN + index + 1;
      if (ms > this.maxMs || (ms === this.maxMs && sx > this.maxSx)) {
        const id = entry.id;
        this.maxId = id;
        this.maxMs = ms;
        this.maxSx = sx;
        this.remember(id, ms, sx);
        return false;
      }
    }
    return this.check(entry);
  }

  /** `seen` for any id. */
  private check(entry: StreamIdOf): boolean {
    const id = entry.id;
    let ms = entry.idMs ?? -1;
    let seq = entry.idSeq ?? -1;
    let index = entry.idIndex ?? -1;
    if (!(ms >= 0 && seq >= 0)) {
      const dash = id.indexOf('-');
      ms = dash > 0 ? streamIdMs(id, dash) : -1;
      seq = ms >= 0 ? streamIdSeq(id, dash) : -1;
      index = streamIdIndex(id);
      if (index < 0 && id.indexOf('/') >= 0) seq = -1;
    }
    const sx = ms >= 0 && seq >= 0 && seq < MAX_SEQ && index < INDEX_SPAN - 1 ? seq * INDEX_SPAN + index + 1 : ODD;
    const max = this.maxId;
    let newer: boolean;
    if (max === undefined) newer = true;
    else if (sx !== ODD && this.maxSx !== ODD) newer = ms > this.maxMs || (ms === this.maxMs && sx > this.maxSx);
    else newer = compareStreamIds(id, max) > 0;
    if (newer) {
      this.maxId = id;
      this.maxMs = ms;
      this.maxSx = sx;
      this.remember(id, ms, sx);
      return false;
    }
    if (this.lookup(id)) return true;
    this.remember(id, ms, sx);
    return false;
  }

  /** Ids currently remembered (for the memory-bound test and the snapshot). */
  get size(): number {
    return this.filled;
  }

  /** Entries in the lookup index (0 when it is not built). */
  get indexSize(): number {
    return this.index === undefined ? 0 : this.index.size;
  }

  /** Ids of other shapes held as text (at most `capacity`: they leave with their slot). */
  get oddSize(): number {
    return this.odd.size;
  }

  private lookup(id: string): boolean {
    if (this.index === undefined) {
      this.index = new Set<string>();
      for (let slot = 0; slot < this.filled; slot++) this.index.add(this.idAt(slot));
    }
    this.quiet = 0;
    return this.index.has(id);
  }

  /** The id remembered in `slot` (< filled), as text. */
  private idAt(slot: number): string {
    const sx = this.seq[slot] ?? ODD;
    if (sx === ODD) return this.odd.get(slot) ?? '';
    const seq = Math.floor(sx / INDEX_SPAN);
    const index = sx - seq * INDEX_SPAN - 1;
    return index < 0 ? `${this.ms[slot] ?? 0}-${seq}` : `${this.ms[slot] ?? 0}-${seq}/${index}`;
  }

  private remember(id: string, ms: number, sx: number): void {
    const slot = this.next;
    if (this.index !== undefined && slot < this.filled) {
      // Ring entries are unique (a remembered id is never remembered again), so deleting the
      // overwritten one cannot remove a live entry.
      this.index.delete(this.idAt(slot));
    }
    // Reading the overwritten slot is a cache miss on a ring this size: only when ids of
    // other shapes were ever remembered.
    if (this.odd.size > 0 && this.seq[slot] === ODD) this.odd.delete(slot);
    if (sx !== ODD) {
      this.ms[slot] = ms;
      this.seq[slot] = sx;
    } else {
      this.seq[slot] = ODD;
      this.odd.set(slot, id);
    }
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.filled < this.capacity) this.filled++;
    if (this.index !== undefined) {
      this.index.add(id);
      if (++this.quiet > this.capacity) this.index = undefined;
    }
  }
}
