/**
 * Restoring segment cells (segment-cells.ts) from a checkpoint: `toPlain` writes a table's
 * typed arrays as base64 (plain-state.ts); this reads that form back into the window's own
 * tables, and also the form of checkpoints written before a table was one packed `Float64Array`
 * (one array of numbers per field: `ids`, `hashes`, `ringEvents`, `ringFailures`,
 * `recentEvents`, `recentFailures`, `baseEvents`, `baseFailures`, `weight`, `severity`), so a
 * node restores what a node of either layout checkpointed, to identical scores.
 */
import { fromPlain, type Plain } from './plain-state.js';
import {
  BASE_EVENTS,
  BASE_FAILURES,
  RECENT_EVENTS,
  RECENT_FAILURES,
  RING,
  SEVERITY,
  WEIGHT,
  createSegments,
  type RiskFocus,
  type SegmentState,
  type SegmentTable,
} from './segment-cells.js';

type Fields = Record<string, unknown>;

function misfit(what: string): never {
  throw new TypeError(`checkpoint segments do not fit: ${what} (another window size?)`);
}

const numbers = (v: unknown, n: number, what: string): ArrayLike<number> => {
  if ((Array.isArray(v) || ArrayBuffer.isView(v)) && (v as ArrayLike<number>).length === n)
    return v as ArrayLike<number>;
  return misfit(what);
};

/** Writes table `src` (plain, either layout) into `t`. */
function restoreTable(t: SegmentTable, src: Fields, r: number): void {
  const k = t.keys.length;
  if (src.dim !== t.dim) misfit(`table ${String(src.dim)} where ${t.dim} belongs`);
  const keys = listOf(src.keys, k, 'keys');
  const fields = listOf(src.fields, k, 'fields');
  const focus =
    Array.isArray(src.focus) && src.focus.length === k ? (src.focus as (RiskFocus | null)[]) : misfit('focus');
  for (let i = 0; i < k; i++) {
    const key = keys[i];
    const field = fields[i];
    t.keys[i] = typeof key === 'string' ? key : '';
    t.fields[i] = typeof field === 'string' ? field : '';
    t.focus[i] = focus[i] ?? null;
  }
  if (src.cells !== undefined) {
    t.cells.set(numbers(src.cells, t.cells.length, 'cells'));
    t.tags.set(numbers(src.tags, k, 'tags'));
  } else {
    // One array per field, cell k's ring slot j at k·r + j.
    const ids = numbers(src.ids, k, 'ids');
    const hashes = numbers(src.hashes, k, 'hashes');
    const per = (name: string, at: number): void => {
      const a = numbers(src[name], k, name);
      for (let i = 0; i < k; i++) t.cells[i * t.stride + at] = a[i] ?? 0;
    };
    per('recentEvents', RECENT_EVENTS);
    per('recentFailures', RECENT_FAILURES);
    per('baseEvents', BASE_EVENTS);
    per('baseFailures', BASE_FAILURES);
    per('weight', WEIGHT);
    per('severity', SEVERITY);
    const ringEvents = numbers(src.ringEvents, k * r, 'ringEvents');
    const ringFailures = numbers(src.ringFailures, k * r, 'ringFailures');
    for (let i = 0; i < k; i++) {
      const o = i * t.stride + RING;
      for (let j = 0; j < r; j++) {
        t.cells[o + j] = ringEvents[i * r + j] ?? 0;
        t.cells[o + r + j] = ringFailures[i * r + j] ?? 0;
      }
      const free = t.keys[i] === '';
      t.tags[i] = free ? -1 : t.dim === 'geo' ? (ids[i] ?? -1) : (hashes[i] ?? 0);
    }
  }
  t.top = Number(src.top);
  t.misses = Number(src.misses);
  t.lightestWeight = Number(src.lightestWeight);
  t.signature = Number(src.signature);
}

function listOf(v: unknown, n: number, what: string): readonly unknown[] {
  return Array.isArray(v) && v.length === n ? v : misfit(what);
}

/**
 * The segment state a checkpoint's `segments` describes: written into `current` (the window's
 * own, else a fresh one of `r` ring buckets); null when the checkpoint has none.
 */
export function restoreSegments(current: SegmentState | null, r: number, p: Plain): SegmentState | null {
  if (p === null) return null;
  const src = fromPlain(p) as Fields;
  const s = current ?? createSegments(r);
  if (src.r !== s.r) misfit(`a ring of ${String(src.r)} buckets where ${s.r} belong`);
  const tables = Array.isArray(src.tables) && src.tables.length === s.tables.length ? src.tables : misfit('tables');
  for (let i = 0; i < s.tables.length; i++) {
    const t = s.tables[i];
    if (t !== undefined) restoreTable(t, tables[i] as Fields, s.r);
  }
  const touched = numbers(src.touched, s.touched.length, 'touched');
  for (let i = 0; i < s.touched.length; i++) s.touched[i] = touched[i] ?? -1;
  s.evaluatedBucket = Number(src.evaluatedBucket);
  return s;
}
