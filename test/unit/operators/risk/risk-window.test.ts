import { describe, expect, it } from 'vitest';
import { AUTH_FAILURE, FAILURE, RiskWindow, TIMEOUT } from '../../../../src/operators/risk/risk-window.js';
import { T0, nextStreamId, windowEntry } from '../fixtures.js';

const S = 1000;

function store(over: Partial<ConstructorParameters<typeof RiskWindow>[0]> = {}) {
  return new RiskWindow({ windowSec: 300, allowedLatenessSec: 30, ...over });
}

function add(
  w: RiskWindow,
  at: number,
  flags = 0,
  o: { processor?: string; retries?: number; geo?: string; id?: string } = {},
) {
  return w.add(windowEntry(at, o), flags);
}

describe('RiskWindow: hand-computed totals', () => {
  it('keeps window totals, current bucket and distinct geos', () => {
    const w = store();
    add(w, T0, FAILURE | TIMEOUT, { retries: 2, geo: 'US' });
    add(w, T0 + 1 * S, FAILURE | AUTH_FAILURE, { retries: 1, geo: 'US' });
    add(w, T0 + 12 * S, 0, { geo: 'CA' });
    const p = add(w, T0 + 15 * S, FAILURE, { retries: 3 });
    expect([
      p.windowEvents,
      p.windowFailures,
      p.windowTimeouts,
      p.windowAuthFailures,
      p.windowRetrySum,
      p.windowGeos,
    ]).toEqual([4, 3, 1, 1, 6, 2]);
    expect([p.bucketEvents(0), p.bucketFailures(0), p.bucketEvents(1), p.bucketFailures(1)]).toEqual([2, 1, 2, 2]);
    expect(p.watermarkMs).toBe(T0 + 15 * S);
  });
});

describe('RiskWindow: window boundary and freshness against the watermark', () => {
  it('counts a bucket while it is the oldest of the window and drops it one bucket later', () => {
    const w = store();
    add(w, T0, FAILURE, { geo: 'US' });
    const p = add(w, T0 + 290 * S); // bucket 29: bucket 0 is the window's oldest
    expect([p.windowEvents, p.windowFailures, p.windowGeos]).toEqual([2, 1, 1]);
    add(w, T0 + 299_999); // still bucket 29
    expect(p.windowEvents).toBe(3);
    add(w, T0 + 300 * S); // bucket 30: bucket 0 falls out
    expect([p.windowEvents, p.windowFailures, p.windowGeos]).toEqual([3, 0, 0]);
  });

  it('forgets everything after a gap longer than the window (no stale incidents)', () => {
    const w = store();
    for (let i = 0; i < 50; i++) add(w, T0 + i * 100, FAILURE | TIMEOUT, { geo: `G${i % 7}` });
    const p = add(w, T0 + 3_600 * S);
    expect([p.windowEvents, p.windowFailures, p.windowTimeouts, p.windowGeos, p.recentEvents]).toEqual([1, 0, 0, 0, 1]);
  });

  it('keeps each processor on its own watermark', () => {
    const w = store();
    add(w, T0, FAILURE, { processor: 'adyen' });
    add(w, T0 + 1_000 * S, 0, { processor: 'stripe' });
    expect(w.get('adyen')!.windowFailures).toBe(1);
    expect(w.get('stripe')!.windowEvents).toBe(1);
  });
});

describe('RiskWindow: lateness', () => {
  it('puts an event within the allowed lateness into its own bucket', () => {
    const w = store();
    add(w, T0 + 40 * S);
    const p = add(w, T0 + 15 * S, FAILURE); // 25 s late, bucket 1
    expect(w.outcome).toBe('counted');
    const own = p.slotOf(Math.floor((T0 + 15 * S) / 10_000));
    expect([p.bucketEvents(0), p.events[own], p.tooLate, p.windowEvents]).toEqual([1, 1, 0, 2]);
  });

  it('counts an event later than the allowed lateness in the current bucket and reports it', () => {
    const w = store();
    add(w, T0 + 40 * S);
    const p = add(w, T0 + 9 * S, FAILURE); // 31 s late
    expect(w.outcome).toBe('late');
    expect([p.bucketEvents(0), p.bucketFailures(0), p.tooLate, p.windowEvents]).toEqual([2, 1, 1, 2]);
  });

  it('treats the exact lateness limit as on time', () => {
    const w = store();
    add(w, T0 + 40 * S);
    add(w, T0 + 10 * S);
    expect(w.outcome).toBe('counted');
  });

  it('never writes outside the window, even with a lateness larger than the window', () => {
    const w = store({ windowSec: 30, allowedLatenessSec: 600 });
    add(w, T0 + 100 * S);
    const p = add(w, T0 + 50 * S, FAILURE);
    expect(w.outcome).toBe('late');
    expect(p.bucketFailures(0)).toBe(1);
  });

  it('advances the watermark only forward', () => {
    const w = store();
    add(w, T0 + 20 * S);
    const p = add(w, T0 + 5 * S);
    expect(p.watermarkMs).toBe(T0 + 20 * S);
  });
});

describe('RiskWindow: redelivery', () => {
  it('does not count a redelivered entry twice', () => {
    const w = store();
    const id = nextStreamId(T0);
    add(w, T0, FAILURE, { id });
    add(w, T0 + 1 * S);
    const p = add(w, T0, FAILURE, { id });
    expect(w.outcome).toBe('duplicate');
    expect([p.windowEvents, p.windowFailures, p.duplicates]).toEqual([2, 1, 1]);
  });

  it('counts an older id it has never seen (an entry reclaimed from another consumer)', () => {
    const w = store();
    add(w, T0 + 1 * S, 0, { id: `${T0 + 1000}-0` });
    const p = add(w, T0, FAILURE, { id: `${T0}-0` });
    expect(w.outcome).toBe('counted');
    expect(p.windowFailures).toBe(1);
  });
});

describe('RiskWindow: recent span and baseline', () => {
  it('keeps the recent span and feeds buckets leaving the window into the decayed baseline', () => {
    const w = store({ windowSec: 30, recentSec: 10, baselineHalfLifeSec: 10 }); // 3 buckets, decay 0.5
    add(w, T0, FAILURE);
    let p = add(w, T0 + 1 * S);
    expect([p.recentEvents, p.baseBuckets]).toEqual([2, 0]);
    p = add(w, T0 + 10 * S); // bucket 1: bucket 0 leaves the recent span, not the window
    expect([p.recentEvents, p.windowEvents, p.baseBuckets]).toEqual([1, 3, 0]);
    add(w, T0 + 30 * S); // bucket 3: bucket 0 leaves the window into the baseline
    expect([p.windowEvents, p.baseEvents, p.baseFailures, p.baseBuckets]).toEqual([2, 2, 1, 1]);
    add(w, T0 + 60 * S); // buckets 1..3 leave (1 event, 0, 1 event), none skipped beyond
    expect(p.baseBuckets).toBeCloseTo(1 * 0.125 + 0.25 + 0.5 + 1, 10);
    expect(p.baseEvents).toBeCloseTo(2 * 0.125 + 1 * 0.25 + 0 + 1, 10);
    let [buckets, events] = [p.baseBuckets, p.baseEvents];
    add(w, T0 + 100 * S); // a jump to bucket 10: buckets 4, 5 (empty), 6 (1 event) leave, and 7 never existed
    for (let i = 0; i < 4; i++) buckets = buckets * 0.5 + 1;
    events = (events * 0.5 * 0.5 * 0.5 + 1) * 0.5;
    expect(p.baseBuckets).toBeCloseTo(buckets, 10);
    expect(p.baseEvents).toBeCloseTo(events, 10);
  });

  it('counts geos seen only in the recent span as novel', () => {
    const w = store();
    for (let i = 0; i < 10; i++) add(w, T0 + i * S, 0, { geo: 'US' });
    const p = add(w, T0 + 60 * S, 0, { geo: 'US' });
    add(w, T0 + 61 * S, 0, { geo: 'BR' });
    add(w, T0 + 62 * S, 0, { geo: 'BR' });
    expect([p.novelGeos, p.windowGeos]).toEqual([1, 2]);
    add(w, T0 + 90 * S); // bucket 6 leaves the recent span: BR is no longer novel
    expect(p.novelGeos).toBe(0);
  });
});

describe('RiskWindow: memory bounds', () => {
  it('tracks at most maxProcessors, dropping the least recently updated', () => {
    const w = store({ maxProcessors: 3 });
    for (const name of ['a', 'b', 'c']) add(w, T0, 0, { processor: name });
    add(w, T0 + 1, 0, { processor: 'a' });
    add(w, T0 + 2, 0, { processor: 'd' });
    expect([...w.processors()].map((p) => p.processor).sort()).toEqual(['a', 'c', 'd']);
    expect(w.evictions).toBe(1);
    for (let i = 0; i < 100; i++) add(w, T0, 0, { processor: `p${i}` });
    expect(w.size).toBe(3);
  });

  it('remembers at most recentIdCapacity stream ids', () => {
    const w = store({ recentIdCapacity: 100 });
    for (let i = 0; i < 10_000; i++) add(w, T0 + i);
    expect(w.rememberedIds).toBe(100);
  });

  it('keeps per-processor memory fixed however many events and geos arrive', () => {
    const w = store();
    const p = add(w, T0);
    const arrays = [p.ids, p.events, p.geo].map((a) => a.length);
    for (let i = 0; i < 50_000; i++) add(w, T0 + i * 37, i % 3 === 0 ? FAILURE : 0, { geo: `geo-${i % 1_000}` });
    expect([p.ids, p.events, p.geo].map((a) => a.length)).toEqual(arrays);
    expect(p.windowGeos).toBeLessThanOrEqual(256);
  });
});

describe('RiskWindow: malformed input', () => {
  it('scores a non-finite time as too late and a bad retry count as none, keeping totals finite', () => {
    const w = store();
    add(w, T0, 0, { retries: 2 });
    const p = add(w, Number.NaN, FAILURE, { retries: Number.NaN });
    expect(w.outcome).toBe('late');
    add(w, T0 + S, 0, { retries: -3 });
    expect([p.windowEvents, p.windowFailures, p.windowRetrySum, p.watermarkMs]).toEqual([3, 1, 2, T0 + S]);
  });
});
