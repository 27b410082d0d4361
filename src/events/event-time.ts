/**
 * Event time: the epoch milliseconds of an RFC 3339 timestamp, and whether the date it writes exists.
 * Pure module, shared by validation, decoding and the backtest reader.
 */

/**
 * Epoch milliseconds of an event timestamp: exactly `Date.parse(iso)`, NaN included.
 *
 * Every stage that reads an event parses its timestamp once, and `Date.parse` was a third of
 * validation's cost (215 ns; this path 95 ns, measured). So the form producers and our own
 * tools write, `YYYY-MM-DDTHH:MM:SS[.mmm]Z`, is read digit by digit; everything else (offsets,
 * other precisions, years before 100 — which `Date.UTC` maps to 19xx — and days after the 28th,
 * where `Date.parse` rolls 30 February into March) is left to `Date.parse`, so the two cannot differ.
 */
export function parseEventTime(iso: string): number {
  const n = iso.length;
  if (
    (n === 24 ? iso.charCodeAt(19) === 46 : n === 20) &&
    iso.charCodeAt(n - 1) === 90 &&
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(10) === 84 &&
    iso.charCodeAt(13) === 58 &&
    iso.charCodeAt(16) === 58
  ) {
    const year = digitsAt(iso, 0, 4);
    const month = digitsAt(iso, 5, 2);
    const day = digitsAt(iso, 8, 2);
    const hour = digitsAt(iso, 11, 2);
    const minute = digitsAt(iso, 14, 2);
    const second = digitsAt(iso, 17, 2);
    const ms = n === 24 ? digitsAt(iso, 20, 3) : 0;
    if (
      year >= 100 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    }
  }
  return Date.parse(iso);
}

/**
 * Whether the date, time and zone an RFC 3339 timestamp (one matching RFC3339_PATTERN) writes
 * exist. `Date.parse` rolls 30 February into March and 24:00 into the next day, and the
 * pattern only checks digits; this refuses both, and a zone offset past ±23:59, so an event is
 * stored with the time it says. (A leap second, :60, already fails `Date.parse`.)
 */
export function isCalendarTime(iso: string): boolean {
  const year = digitsAt(iso, 0, 4);
  const month = digitsAt(iso, 5, 2);
  const day = digitsAt(iso, 8, 2);
  const hour = digitsAt(iso, 11, 2);
  const minute = digitsAt(iso, 14, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > days) return false;
  const zone = iso.charCodeAt(iso.length - 1);
  if (zone === 90 || zone === 122) return true;
  const offsetHours = digitsAt(iso, iso.length - 5, 2);
  const offsetMinutes = digitsAt(iso, iso.length - 2, 2);
  return offsetHours >= 0 && offsetHours <= 23 && offsetMinutes >= 0 && offsetMinutes <= 59;
}

/** The decimal number written by `count` digits at `at`; -1 when one of them is not a digit. */
export function digitsAt(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
