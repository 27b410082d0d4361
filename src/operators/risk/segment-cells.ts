/**
 * Per-processor segment cells: where failures concentrate. Four dimensions — geo, merchant,
 * failure category, route (payment method, else channel) — each a bounded table of K cells kept
 * by Space-Saving (a new value takes the lightest cell and inherits its weight, so any value
 * carrying more than 1/K of the traffic keeps a cell, whatever the cardinality; admission is
 * thinned by the lightest weight, see `cellOf`).
 *
 *   cell k (`cells`, from k·stride):  recent events, failures │ baseline (decayed) events,
 *                                     failures │ weight │ severity │ ring: R events, R failures
 *   per cell beside it: key │ field │ tag (the geo's interned bit, else a hash of the key)
 *
 * Memory: 4 × K cells of a few numbers, fixed at creation; one Float64Array per table, so a cell
 * update touches one block of memory and allocates nothing. Every piece is plain data (strings,
 * typed arrays, one plain `focus` object per cell), so the state checkpoints to JSON and restores
 * to identical scores (segment-checkpoint.ts). Per event: one scan of K tags per dimension; per
 * bucket: O(4·K·R).
 */
import { baselineRate, winsorised } from './baseline.js';

export const SEGMENT_DIMENSIONS = ['geo', 'merchant', 'category', 'route'] as const;
export type SegmentDimension = (typeof SEGMENT_DIMENSIONS)[number];

/** The export field naming a segment: `{"geo_bucket":"BR"}`. */
export type RiskFocus = Readonly<Record<string, string>>;

/** Cells per dimension, and the weight half-life (buckets) that ranks them for eviction. */
export const SEGMENT_CELLS = 8;
const WEIGHT_DECAY = Math.pow(0.5, 1 / 6);

/** Offsets in a cell's block of `SegmentTable.cells`; the ring follows at RING. */
export const RECENT_EVENTS = 0;
export const RECENT_FAILURES = 1;
export const BASE_EVENTS = 2;
export const BASE_FAILURES = 3;
export const WEIGHT = 4;
export const SEVERITY = 5;
export const RING = 6;

export interface SegmentTable {
  readonly dim: SegmentDimension;
  /** '' for a free cell. */
  readonly keys: string[];
  /** Geo cells: the key's interned bit (the window's geo interner); other cells: `hashOf` the key; -1 when free. */
  readonly tags: Int32Array;
  /** The event field the key came from (`geo_bucket`, `merchant_id_hash`, …). */
  readonly fields: string[];
  /** Made on first use (`focusOf`), so a churning cell allocates nothing. */
  readonly focus: (RiskFocus | null)[];
  /** Doubles per cell: RING + 2R. */
  readonly stride: number;
  /**
   * Cell k at k·stride: the offsets above, then its ring (slot j's events at RING + j, failures at
   * RING + R + j). Category cells count failures only.
   */
  readonly cells: Float64Array;
  /** The cell holding the largest severity (adaptive model), -1: none. */
  top: number;
  /** Misses since the last admission, and the lightest weight gating the next (see `cellOf`). */
  misses: number;
  lightestWeight: number;
  /** OR of one bit per tracked key (the low 5 bits of its hash). */
  signature: number;
}

export interface SegmentState {
  /** Recent span in buckets (the ring length). */
  readonly r: number;
  readonly tables: SegmentTable[];
  /** Cell each dimension's last failure landed in (-1: none), for the model's incremental update. */
  readonly touched: number[];
  /** The watermark bucket the model last rescanned every cell at (-1: never). */
  evaluatedBucket: number;
}

/** Cell `k`'s severity as last computed. */
export function severityAt(t: SegmentTable, k: number): number {
  return t.cells[k * t.stride + SEVERITY] ?? 0;
}

function createTable(dim: SegmentDimension, k: number, r: number): SegmentTable {
  const stride = RING + 2 * r;
  return {
    dim,
    keys: new Array<string>(k).fill(''),
    tags: new Int32Array(k).fill(-1),
    fields: new Array<string>(k).fill(''),
    focus: new Array<RiskFocus | null>(k).fill(null),
    stride,
    cells: new Float64Array(k * stride),
    top: -1,
    misses: 0,
    lightestWeight: -1,
    signature: 0,
  };
}

/**
 * `n` zeros in an array V8 keeps as unboxed doubles from the start: counts decay into fractions,
 * and an array that starts as small integers changes its elements kind (and deoptimises) then.
 */
export function doubles(n: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(0.5);
  return a.fill(0);
}

export function createSegments(recentBuckets: number, cells = SEGMENT_CELLS): SegmentState {
  const s: SegmentState = {
    r: recentBuckets,
    tables: SEGMENT_DIMENSIONS.map((d) => createTable(d, cells, recentBuckets)),
    touched: [-1, -1, -1, -1],
    evaluatedBucket: -1,
  };
  // V8 treats a field never written since creation as a constant and takes its representation
  // from its first value: the first writes of these (a bucket id, a cell) would change the map
  // and deoptimise the functions that read it, once the processor's cells are first judged,
  // mid-run. Written once here, as what they will hold.
  s.evaluatedBucket = 0.5;
  s.evaluatedBucket = -1;
  for (const t of s.tables) {
    t.top = 0;
    t.top = -1;
  }
  return s;
}

/**
 * The cell of `key` in `t`, or -1. A value without a cell takes a free one, else the lightest
 * one, admitted once in (lightest weight / ADMIT_EVERY) misses (a deterministic counter,
 * `t.misses`): a long tail of distinct values churns the table once per that many events, not
 * on every one (measured: ~0.4 µs an event with 97 merchants). The newcomer inherits the
 * lightest weight, as in Space-Saving.
 */
function cellOf(t: SegmentTable, key: string, id: number, field: string): number {
  const k = id >= 0 ? taggedCell(t, id) : keyedCell(t, key);
  return k >= 0 || !admitted(t) ? k : admit(t, key, id, field);
}

/** The cell tagged `id` (a geo's interned bit), or -1. */
function taggedCell(t: SegmentTable, id: number): number {
  const tags = t.tags;
  for (let k = 0; k < tags.length; k++) if (tags[k] === id) return k;
  return -1;
}

/** The cell holding `key` (cells tagged with `hashOf` their key), or -1. */
function keyedCell(t: SegmentTable, key: string): number {
  // A hash of a few characters, kept per cell: most values without a cell miss on the
  // signature bit, and strings are compared only where the hashes match (comparing the
  // sliced strings of stored lines was 5% of a backtest's CPU).
  const h = hashOf(key);
  if ((t.signature & (1 << (h & 31))) !== 0) {
    const keys = t.keys;
    const tags = t.tags;
    for (let k = 0; k < keys.length; k++) if (tags[k] === h && keys[k] === key) return k;
  }
  return -1;
}

/**
 * Whether a value without a cell is admitted now: the lightest weight as of the last bucket (or
 * admission) gates admission, counting the misses; only an admission looks for the lightest cell.
 */
function admitted(t: SegmentTable): boolean {
  return !(t.lightestWeight > ADMIT_EVERY && ++t.misses * ADMIT_EVERY < t.lightestWeight);
}

/** Gives `key` the lightest cell (a free one first); returns it. */
function admit(t: SegmentTable, key: string, id: number, field: string): number {
  const keys = t.keys;
  const tags = t.tags;
  const cells = t.cells;
  const stride = t.stride;
  let lightest = 0;
  let lightestWeight = Infinity;
  for (let k = 0; k < keys.length; k++) {
    const w = keys[k] === '' ? -1 : (cells[k * stride + WEIGHT] ?? 0);
    if (w < lightestWeight) {
      lightest = k;
      lightestWeight = w;
    }
  }
  t.misses = 0;
  const k = lightest;
  keys[k] = key;
  tags[k] = id >= 0 ? id : hashOf(key);
  t.fields[k] = field;
  t.focus[k] = null;
  // A loop, not `fill`: TypedArray#fill calls into C++ (a few hundred instructions) for 12 doubles.
  for (let j = k * stride, end = j + stride; j < end; j++) cells[j] = 0;
  if (t.top === k) t.top = -1;
  cells[k * stride + WEIGHT] = lightestWeight > 0 ? lightestWeight : 0;
  t.lightestWeight = lightestOf(t);
  if (id < 0) t.signature = signatureOf(t);
  return k;
}

/** OR of one bit per tracked key (the low 5 bits of its hash). */
function signatureOf(t: SegmentTable): number {
  let signature = 0;
  for (let j = 0; j < t.keys.length; j++) if (t.keys[j] !== '') signature |= 1 << ((t.tags[j] ?? 0) & 31);
  return signature;
}

/**
 * `bucket` mod `r`, in [0, r). Bucket ids are integers well inside int32, and an int32 modulo
 * spares the float one V8 emits for a double operand (x87 `fprem`, per event).
 */
export function ringSlot(bucket: number, r: number): number {
  const i = bucket | 0;
  const m = i === bucket ? i % r : bucket % r;
  return m < 0 ? m + r : m;
}

/** A 32-bit hash of a value's length and its first, middle and last characters. */
function hashOf(key: string): number {
  const n = key.length;
  let h = Math.imul(n, 0x9e3779b1) ^ key.charCodeAt(0);
  h = Math.imul(h ^ key.charCodeAt(n >> 1), 0x85ebca6b) ^ key.charCodeAt(n - 1);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Admission thinning: a value without a cell is admitted once in (lightest weight / this)
 * misses, so a value turning heavy (a failing geo that was a tail one) takes a cell within a
 * quarter of the time it would need to outweigh the lightest cell.
 */
const ADMIT_EVERY = 4;

/** The smallest weight among the cells, -1 while one is free. */
function lightestOf(t: SegmentTable): number {
  let m = Infinity;
  for (let k = 0; k < t.keys.length; k++) {
    const w = t.keys[k] === '' ? -1 : (t.cells[k * t.stride + WEIGHT] ?? 0);
    if (w < m) m = w;
  }
  return m;
}

/** The export's `processor_risk_focus` of cell `k`, made once per cell. */
export function focusOf(t: SegmentTable, k: number): RiskFocus | null {
  const made = t.focus[k];
  if (made !== undefined && made !== null) return made;
  const key = t.keys[k];
  if (key === undefined || key === '') return null;
  const focus: Record<string, string> = {};
  focus[t.fields[k] ?? ''] = key;
  t.focus[k] = Object.freeze(focus);
  return t.focus[k] ?? null;
}

function count(
  s: SegmentState,
  dim: number,
  key: string,
  id: number,
  field: string,
  slot: number,
  failed: number,
): void {
  const t = s.tables[dim];
  if (t === undefined) return;
  const k = cellOf(t, key, id, field);
  // A success can only lower a cell's severity: the model takes that up at the next bucket.
  if (failed !== 0) s.touched[dim] = k;
  if (k >= 0) tally(t, k, slot, s.r, failed);
}

/** Counts one event (`failed` 0 or 1) into cell `k`, its ring slot `slot` of `r`. */
function tally(t: SegmentTable, k: number, slot: number, r: number, failed: number): void {
  const c = t.cells;
  const o = k * t.stride;
  const j = o + RING + slot;
  c[j] = (c[j] ?? 0) + 1;
  c[j + r] = (c[j + r] ?? 0) + failed;
  c[o + RECENT_EVENTS] = (c[o + RECENT_EVENTS] ?? 0) + 1;
  c[o + RECENT_FAILURES] = (c[o + RECENT_FAILURES] ?? 0) + failed;
  c[o + WEIGHT] = (c[o + WEIGHT] ?? 0) + 1;
}

/**
 * Counts one event into its cells (`bucket` is the bucket it is counted in, the watermark's for
 * a late one; `geoBit` the geo's interned bit). Empty or absent values count nowhere; a category
 * is counted for failures only. The geo and merchant cells, on every event, are found here
 * without a call (the lookup's hit and its admission gate), `count` only for the rest.
 */
export function countSegments(
  s: SegmentState,
  bucket: number,
  failed: number,
  geo: string | undefined,
  geoBit: number,
  merchant: string | undefined,
  category: string | undefined,
  method: string | undefined,
  channel: string | undefined,
): void {
  const slot = ringSlot(bucket, s.r);
  const touched = s.touched;
  touched[0] = touched[1] = touched[2] = touched[3] = -1;
  const tables = s.tables;
  const g = tables[0];
  if (g !== undefined && geo !== undefined && geo !== '') {
    let k = taggedCell(g, geoBit);
    if (k < 0 && admitted(g)) k = admit(g, geo, geoBit, 'geo_bucket');
    if (failed !== 0) touched[0] = k;
    if (k >= 0) tally(g, k, slot, s.r, failed);
  }
  const m = tables[1];
  if (m !== undefined && merchant !== undefined && merchant !== '') {
    let k = keyedCell(m, merchant);
    if (k < 0 && admitted(m)) k = admit(m, merchant, -1, 'merchant_id_hash');
    if (failed !== 0) touched[1] = k;
    if (k >= 0) tally(m, k, slot, s.r, failed);
  }
  if (failed !== 0 && category !== undefined && category !== '') count(s, 2, category, -1, 'failure_category', slot, 1);
  if (method !== undefined && method !== '') count(s, 3, method, -1, 'payment_method_bucket', slot, failed);
  else if (channel !== undefined && channel !== '') count(s, 3, channel, -1, 'channel', slot, failed);
}

/** What `advanceSegments` reads of the processor: its events per bucket. */
export interface BucketEvents {
  eventsInBucket(bucket: number): number;
}

/**
 * The watermark moved from bucket `from` to `to`: the ring slots of the buckets leaving the
 * recent span feed each cell's baseline (decay `d` per bucket, winsorised against the cell's
 * rate, its prior the processor's `processorRate`), so a segment incident moves it a small step
 * per bucket and a segment that is always different becomes its own normal. A category cell's
 * rate is its share of the processor's events.
 */
export function advanceSegments(
  s: SegmentState,
  from: number,
  to: number,
  d: number,
  processor: BucketEvents,
  processorRate: number,
): void {
  const r = s.r;
  const last = Math.min(from, to - r);
  const decay = Math.pow(WEIGHT_DECAY, to - from);
  for (const t of s.tables) {
    const category = t.dim === 'category';
    const c = t.cells;
    t.lightestWeight = lightestOf(t) * decay;
    for (let k = 0; k < t.keys.length; k++) {
      if (t.keys[k] === '') continue;
      const o = k * t.stride;
      c[o + WEIGHT] = (c[o + WEIGHT] ?? 0) * decay;
      for (let b = from - r + 1; b <= last; b++) {
        const j = o + RING + ringSlot(b, r);
        const ce = c[j] ?? 0;
        const f = c[j + r] ?? 0;
        c[o + RECENT_EVENTS] = (c[o + RECENT_EVENTS] ?? 0) - ce;
        c[o + RECENT_FAILURES] = (c[o + RECENT_FAILURES] ?? 0) - f;
        c[j] = 0;
        c[j + r] = 0;
        const e = category ? processor.eventsInBucket(b) : ce;
        if (e > 0) {
          const be = c[o + BASE_EVENTS] ?? 0;
          const bf = c[o + BASE_FAILURES] ?? 0;
          const p = baselineRate(bf, be, category ? CATEGORY_PRIOR * processorRate : processorRate);
          c[o + BASE_EVENTS] = be * d + e;
          c[o + BASE_FAILURES] = bf * d + winsorised(f, e, p);
        }
      }
    }
  }
}

/**
 * Share of the processor's failure rate a category is assumed to take before its own history
 * says otherwise: a new category is assumed to be a large one.
 */
export const CATEGORY_PRIOR = 0.5;
