import { describe, expect, it } from 'vitest';
import { AssessmentCache, INSUFFICIENT_ASSESSMENT, assessRisk } from '../../../../src/operators/risk/assess-risk.js';
import { DRIVER_LISTS } from '../../../../src/operators/risk/risk-model.js';
import type { RiskModel } from '../../../../src/operators/risk/risk-model.js';
import { FAILURE, RiskWindow } from '../../../../src/operators/risk/risk-window.js';
import type { ProcessorWindow } from '../../../../src/operators/risk/risk-window.js';
import { T0, windowEntry } from '../fixtures.js';

const THRESHOLDS = [0.3, 0.6, 0.8] as const;

function fixed(score: number, mask = 0): RiskModel {
  return { name: 'classic', evaluate: () => score, driverMask: () => mask };
}

/** `buckets[i]` = [events, failures] of bucket i; the last one is the watermark's, closed at its end. */
function windowOf(buckets: [number, number][], closeAtMs = 9_999): ProcessorWindow {
  const w = new RiskWindow({ windowSec: 300, allowedLatenessSec: 30 });
  let p: ProcessorWindow | undefined;
  buckets.forEach(([events, failures], b) => {
    for (let i = 0; i < events; i++) {
      const last = b === buckets.length - 1 && i === events - 1;
      const at = T0 + b * 10_000 + (last ? closeAtMs : Math.floor((i * closeAtMs) / events));
      p = w.add(windowEntry(at), i < failures ? FAILURE : 0);
    }
  });
  return p!;
}

const assess = (w: ProcessorWindow, model: RiskModel = fixed(0.1), cache?: AssessmentCache) =>
  assessRisk(w, model, THRESHOLDS, new Float64Array(6), cache);

describe('assessRisk: bands and drivers', () => {
  it('says insufficient_data under 5 events and scores from 5', () => {
    expect(assess(windowOf([[4, 4]]), fixed(0.9))).toBe(INSUFFICIENT_ASSESSMENT);
    expect(assess(windowOf([[5, 5]]), fixed(0.9)).band).toBe('critical');
  });

  it('takes the band from the rounded score', () => {
    const w = windowOf([[10, 0]]);
    expect(assess(w, fixed(0.2951))).toMatchObject({ score: 0.3, band: 'elevated' });
    expect(assess(w, fixed(0.5949))).toMatchObject({ score: 0.59, band: 'elevated' });
    expect(assess(w, fixed(0.7951))).toMatchObject({ score: 0.8, band: 'critical' });
    expect(assess(w, fixed(1.7))).toMatchObject({ score: 1, band: 'critical' });
  });

  it('uses the shared driver lists: nominal_behavior when none', () => {
    const w = windowOf([[10, 0]]);
    expect(assess(w, fixed(0.5, 0)).drivers).toBe(DRIVER_LISTS[0]);
    expect(assess(w, fixed(0.5, 0b100001)).drivers).toEqual(['high_failure_rate', 'geo_entropy_increase']);
  });
});

describe('assessRisk: trajectory', () => {
  it('is stable at ratio 1 without a baseline', () => {
    expect(assess(windowOf([[20, 10]]))).toMatchObject({ trajectory: 'stable', trajectoryRatio: 1 });
  });

  it('accelerates at twice the baseline failure rate', () => {
    expect(
      assess(
        windowOf([
          [20, 2],
          [0, 0],
          [20, 4],
        ]),
      ),
    ).toMatchObject({ trajectory: 'accelerating', trajectoryRatio: 2 });
    expect(
      assess(
        windowOf([
          [20, 2],
          [0, 0],
          [20, 3],
        ]),
      ),
    ).toMatchObject({ trajectory: 'stable', trajectoryRatio: 1.5 });
  });

  it('decelerates at half the baseline only when the baseline is over 5%', () => {
    expect(
      assess(
        windowOf([
          [20, 4],
          [0, 0],
          [20, 2],
        ]),
      ),
    ).toMatchObject({ trajectory: 'decelerating', trajectoryRatio: 0.5 });
    // A 5% baseline: 0% now is not a trend worth a word.
    expect(
      assess(
        windowOf([
          [20, 1],
          [0, 0],
          [20, 0],
        ]),
      ),
    ).toMatchObject({ trajectory: 'stable', trajectoryRatio: 0 });
  });

  it('takes ratios against at least a 5% baseline', () => {
    expect(
      assess(
        windowOf([
          [100, 1],
          [0, 0],
          [20, 2],
        ]),
      ).trajectoryRatio,
    ).toBe(2);
  });

  it('reads the last 10 s: the previous bucket counts for the share the current one has not covered', () => {
    // Previous bucket 20 events / 10 failures, current 20 / 0, watermark 2.5 s into the bucket.
    const w = windowOf(
      [
        [100, 10],
        [20, 10],
        [20, 0],
      ],
      2_500,
    );
    // current = (0 + 0.75·10) / (20 + 0.75·20) = 0.214; baseline = 20 / 120
    expect(assess(w).trajectoryRatio).toBe(1.3);
  });
});

describe('assessRisk: reuse', () => {
  it('returns the previous assessment when nothing changed, else an interned one', () => {
    const w = windowOf([[10, 0]]);
    const cache = new AssessmentCache();
    const a = assess(w, fixed(0.4), cache);
    w.assessment = a;
    expect(assess(w, fixed(0.4), cache)).toBe(a);
    w.assessment = undefined;
    expect(assess(w, fixed(0.4), cache)).toBe(a);
    expect(assess(w, fixed(0.41), cache)).not.toBe(a);
  });

  it('bounds the interning cache', () => {
    const w = windowOf([[10, 0]]);
    const cache = new AssessmentCache(8);
    for (let i = 0; i <= 100; i++) assess(w, fixed(i / 100), cache);
    expect(cache.size).toBeLessThanOrEqual(8);
  });
});
