import { describe, expect, it } from 'vitest';
import { ProcessorWindow } from '../../../../src/operators/risk/processor-window.js';
import { RiskScorer } from '../../../../src/operators/risk/risk-scorer.js';
import {
  SEQUENTIAL,
  SEQ_DERIVED,
  advanceSequential,
  deriveSequential,
  sequentialSeverity,
} from '../../../../src/operators/risk/sequential.js';
import { T0, envelope } from '../fixtures.js';

const B0 = T0 / 10_000;

/** A window whose baseline is 3% failures over 1 000 events, watermark in bucket B0 + 1. */
function windowAt3pct(): ProcessorWindow {
  const w = new ProcessorWindow('stripe', 30, 3);
  Object.assign(w, {
    baseEvents: 1_000,
    baseFailures: 30,
    baseBuckets: 200,
    wmBucket: B0 + 1,
    watermarkMs: T0 + 10_000,
  });
  w.sequential[4] = B0 - 1; // fed up to the bucket before B0
  return w;
}

function setBucket(w: ProcessorWindow, b: number, events: number, failures: number): void {
  const s = w.slotOf(b);
  w.ids[s] = b;
  w.events[s] = events;
  w.failures[s] = failures;
}

describe('sequential test (CUSUM on failure counts)', () => {
  it('computes one step of the chart by hand', () => {
    const w = windowAt3pct();
    setBucket(w, B0, 5, 2);
    const v = w.derived.values;
    // τ² = 0 learned: τ is the prior drift 0.15·0.03 + 0.005 = 0.0095; p₁ = 0.03 + 4·0.0095 = 0.068
    deriveSequential(w, v, 0);
    expect(v[SEQ_DERIVED]).toBeCloseTo(0.03, 12);
    expect(v[SEQ_DERIVED + 3]).toBeCloseTo(0.068, 12);
    advanceSequential(w, v);
    const k = (0.0095 * 0.0095) / (0.03 * 0.97);
    const step = (2 * Math.log(0.068 / 0.03) + 3 * Math.log(0.932 / 0.97)) / (1 + 5 * k);
    expect(w.sequential[0]).toBeCloseTo(step, 10);
    expect(step).toBeCloseTo(1.4936, 3);
    expect([w.sequential[1], w.sequential[2], w.sequential[4]]).toEqual([5, 2, B0]);
    // Far below the threshold: no severity.
    expect(sequentialSeverity(w, v)).toBe(0);
  });

  it('is off until the baseline holds 5 minutes and the prior’s weight (200 events) of its own', () => {
    for (const over of [{ baseEvents: 199 }, { baseBuckets: 29 }]) {
      const w = windowAt3pct();
      Object.assign(w, over);
      w.sequential[0] = 50;
      deriveSequential(w, w.derived.values, 0);
      advanceSequential(w, w.derived.values);
      expect(w.sequential[0]).toBe(0);
      expect(sequentialSeverity(w, w.derived.values)).toBe(0);
    }
  });

  it('reads elevated from the threshold, capped by the effect of the run’s excess rate, 0 under 8 points', () => {
    const w = windowAt3pct();
    const v = w.derived.values;
    deriveSequential(w, v, 0);
    // A run of 60 events with 15 failures (25% against 3%), S at the threshold + half the span.
    w.sequential[0] = SEQUENTIAL.threshold + SEQUENTIAL.span / 2;
    w.sequential[1] = 60;
    w.sequential[2] = 15;
    expect(sequentialSeverity(w, v)).toBeCloseTo(0.45, 10);
    // S at its cap (0.6 by evidence), a run 10 points over: the effect ramp (5 pts → 0.3,
    // 12 → 0.6) caps it at 0.3 + 0.3·5/7.
    w.sequential[0] = SEQUENTIAL.threshold + SEQUENTIAL.span;
    w.sequential[1] = 500;
    w.sequential[2] = 65;
    expect(sequentialSeverity(w, v)).toBeCloseTo(0.3 + (0.3 * 5) / 7, 10);
    // 7 points over: nothing, however strong the evidence.
    w.sequential[2] = 50;
    expect(sequentialSeverity(w, v)).toBe(0);
    // Below the threshold: nothing.
    w.sequential[0] = SEQUENTIAL.threshold - 0.01;
    w.sequential[2] = 65;
    expect(sequentialSeverity(w, v)).toBe(0);
  });

  it('catches +20 points on a 3% processor at 0.5 event/s within minutes, and lets go after it ends', () => {
    const scorer = new RiskScorer({
      model: 'adaptive',
      windowSec: 300,
      allowedLatenessSec: 30,
      thresholds: [0.3, 0.6, 0.8],
    });
    // One event every 2 s; 3% failures (one in 33), then 25% (one in 4) for 5 minutes, then 3%.
    const onset = 3_600;
    const end = onset + 300;
    const bands: { t: number; band: string; drivers: readonly string[] }[] = [];
    for (let t = 0; t < end + 600; t += 2) {
      const i = t / 2;
      const failed = t >= onset && t < end ? i % 4 === 0 : i % 33 === 0;
      const a = scorer.score(envelope({ at: T0 + t * 1000, category: failed ? 'card_declined' : undefined }));
      bands.push({ t, band: a.band, drivers: a.drivers });
    }
    const alarmed = bands.filter((b) => b.band !== 'low');
    expect(alarmed.filter((b) => b.t >= 900 && b.t < onset)).toEqual([]);
    const first = alarmed.find((b) => b.t >= onset);
    expect(first).toBeDefined();
    expect(first!.t - onset).toBeLessThan(240);
    expect(first!.drivers).toContain('high_failure_rate');
    // Held, not a touch: elevated for the rest of the shift from 30 s after the first alarm.
    expect(bands.filter((b) => b.t >= first!.t + 30 && b.t < end).every((b) => b.band !== 'low')).toBe(true);
    expect(alarmed.filter((b) => b.t >= end + 180)).toEqual([]);
  });
});
