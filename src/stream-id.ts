/**
 * Redis stream ids (`<ms>-<seq>`): their order, and their two numbers.
 *
 * The reader reads each id's numbers once (it needs the milliseconds anyway, as the time the
 * entry was stored) and they travel with the entry, so that the risk window's redelivery ring
 * can keep numbers instead of the id strings (operators/risk/recent-ids.ts) without reading the
 * ~15 digits again: ~30–60 ns an id on the benchmark VM. Pure; shared by buffer/ and operators/.
 */

/**
 * Orders Redis stream ids (`<ms>-<seq>`, no leading zeros) and the addresses of events in packed
 * entries (`<ms>-<seq>/<index>`, events/packed-entry.ts): by entry id, then by index, an entry id
 * alone first. Ids of other shapes (file replay line numbers, test ids) still get a total order:
 * shorter numbers first, then lexicographic.
 */
export function compareStreamIds(a: string, b: string): number {
  const sa = a.indexOf('/');
  const sb = b.indexOf('/');
  if (sa < 0 && sb < 0) return compareEntryIds(a, b);
  const c = compareEntryIds(sa < 0 ? a : a.slice(0, sa), sb < 0 ? b : b.slice(0, sb));
  if (c !== 0) return c;
  if (sa < 0 || sb < 0) return sa < 0 ? (sb < 0 ? 0 : -1) : 1;
  const ia = a.slice(sa + 1);
  const ib = b.slice(sb + 1);
  return ia.length !== ib.length ? ia.length - ib.length : ia < ib ? -1 : ia > ib ? 1 : 0;
}

function compareEntryIds(a: string, b: string): number {
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

/**
 * The sequence number of `id` (whose first dash is at `dash`), up to a `/<index>` if there is one,
 * or -1 unless it is canonical digits.
 */
export function streamIdSeq(id: string, dash: number): number {
  if (dash < 0) return -1;
  const slash = id.indexOf('/', dash);
  return canonicalDigits(id, dash + 1, slash < 0 ? id.length : slash);
}

/** The index of an event's address in a packed entry (`<ms>-<seq>/<index>`); -1 when there is none or it is not canonical digits. */
export function streamIdIndex(id: string): number {
  const slash = id.indexOf('/');
  return slash < 0 ? -1 : canonicalDigits(id, slash + 1, id.length);
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
