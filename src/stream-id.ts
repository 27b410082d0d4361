/**
 * Redis stream ids (`<ms>-<seq>`): their order, and their two numbers.
 *
 * The reader reads each id's numbers once (it needs the milliseconds anyway, as the time the
 * entry was stored) and they travel with the entry, so that the risk window's redelivery ring
 * can keep numbers instead of the id strings (operators/risk/recent-ids.ts) without reading the
 * ~15 digits again: ~30–60 ns an id on the benchmark VM. Pure; shared by buffer/ and operators/.
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

/** Longest part read as a number: 15 digits are always exact in a double. */
const MAX_DIGITS = 15;

/** The milliseconds of `id` (whose first dash is at `dash`), or -1 unless they are canonical digits. */
export function streamIdMs(id: string, dash: number): number {
  return canonicalDigits(id, 0, dash);
}

/** The sequence number of `id` (whose first dash is at `dash`), or -1 unless it is canonical digits. */
export function streamIdSeq(id: string, dash: number): number {
  return dash < 0 ? -1 : canonicalDigits(id, dash + 1, id.length);
}

/**
 * The number written by `s[from, to)` when it is canonical decimal digits (no sign, no leading
 * zero, at most MAX_DIGITS), so that printing the number gives the same text back; else -1.
 */
function canonicalDigits(s: string, from: number, to: number): number {
  const n = to - from;
  if (n < 1 || n > MAX_DIGITS || (n > 1 && s.charCodeAt(from) === 48)) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
