import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCalendarTime, parseEventTime } from '../../../src/events/event-time.js';

describe('parseEventTime', () => {
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  // The fast path's own form, with every field ranging past its limits, and the forms it leaves to Date.parse.
  const stamp = fc
    .record({
      year: fc.integer({ min: 0, max: 9999 }),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 60 }),
      second: fc.integer({ min: 0, max: 60 }),
      ms: fc.integer({ min: 0, max: 999 }),
      fraction: fc.constantFrom('ms', 'none', 'micro'),
      zone: fc.constantFrom('Z', 'z', '+01:00', '-05:30', ''),
      sep: fc.constantFrom('T', 't', ' '),
    })
    .map((s) => {
      const frac = s.fraction === 'ms' ? `.${pad(s.ms, 3)}` : s.fraction === 'micro' ? `.${pad(s.ms, 3)}123` : '';
      return `${pad(s.year, 4)}-${pad(s.month, 2)}-${pad(s.day, 2)}${s.sep}${pad(s.hour, 2)}:${pad(s.minute, 2)}:${pad(s.second, 2)}${frac}${s.zone}`;
    });

  it('returns exactly what Date.parse returns, NaN included', () => {
    fc.assert(
      fc.property(fc.oneof(stamp, fc.string({ maxLength: 26 })), (iso) => {
        expect(Object.is(parseEventTime(iso), Date.parse(iso)), iso).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    '2026-11-24T09:30:00.123Z',
    '2026-11-24T09:30:00Z',
    '0050-01-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-1x-01T00:00:00Z',
    '2026-11-24T09:30:00.12Z',
  ])('%s as Date.parse reads it', (iso) => {
    expect(Object.is(parseEventTime(iso), Date.parse(iso))).toBe(true);
  });
});

describe('isCalendarTime', () => {
  it.each([
    ['2024-02-29T23:59:59Z', true],
    ['2026-02-29T00:00:00Z', false],
    ['2000-02-29T00:00:00Z', true],
    ['1900-02-29T00:00:00Z', false],
    ['2026-12-31T00:00:00.5+23:59', true],
    ['2026-11-31T00:00:00Z', false],
    ['2026-11-24T24:00:00Z', false],
    ['2026-11-24T23:60:00Z', false],
    ['2026-00-10T00:00:00Z', false],
    ['2026-11-24T10:00:00-24:00', false],
  ])('%s exists: %s', (iso, want) => expect(isCalendarTime(iso)).toBe(want));

  it('accepts every day of 2023 and 2024 as toISOString writes it', () => {
    for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2025, 0, 1); t += 86_400_000) {
      const day = new Date(t).toISOString().slice(0, 10);
      expect(isCalendarTime(`${day}T00:00:00Z`)).toBe(true);
    }
  });
});
