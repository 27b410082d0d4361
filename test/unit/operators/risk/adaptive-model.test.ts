import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_PARAMS,
  adaptiveModel,
  countSeverity,
  effectOf,
  evidenceOf,
} from '../../../../src/operators/risk/adaptive-model.js';
import { driftSq, winsorised } from '../../../../src/operators/risk/baseline.js';
import { EVIDENCE_SURE, EVIDENCE_TOP, evidenceK } from '../../../../src/operators/risk/evidence.js';
import { ProcessorWindow } from '../../../../src/operators/risk/processor-window.js';
import { RiskScorer } from '../../../../src/operators/risk/risk-scorer.js';
import { T0, envelope } from '../fixtures.js';

/** A window in a hand-set state: a long calm baseline (8% failures) and a recent span of 570 events. */
function state(over: Partial<Record<keyof ProcessorWindow, number>> = {}): ProcessorWindow {
  const w = new ProcessorWindow('stripe', 30, 3);
  Object.assign(w, {
    wmBucket: T0 / 10_000,
    watermarkMs: T0 + 5_000,
    firstEventMs: T0 - 3_600_000,
    windowEvents: 5_000,
    baseBuckets: 60,
    baseEvents: 9_800,
    baseFailures: 780,
    baseTimeouts: 80,
    baseAuthFailures: 48,
    baseRetrySum: 1_960,
    recentEvents: 570,
    recentFailures: 46,
    recentTimeouts: 5,
    recentAuthFailures: 5,
    recentRetrySum: 114,
    ...over,
  });
  return w;
}

function evaluate(w: ProcessorWindow) {
  const c = new Float64Array(8);
  const score = adaptiveModel.evaluate(w, c);
  return { score, c: [...c], mask: adaptiveModel.driverMask(c, Math.round(score * 100) / 100, 0.3) };
}

describe('adaptive model: evidence', () => {
  it('computes the tempered likelihood root by hand', () => {
    // r = 0.2, KL(0.2 ‖ 0.1) = 0.2·ln 2 + 0.8·ln(8/9) = 0.0444027; 2·300·KL = 26.6416
    expect(evidenceOf(60, 300, 0.1, 0)).toBeCloseTo(Math.sqrt(26.64164), 4);
    // φ = 1 + 300·0.0001/0.09 = 4/3
    expect(evidenceOf(60, 300, 0.1, 0.0001)).toBeCloseTo(Math.sqrt(26.64164 * 0.75), 4);
    expect(evidenceOf(30, 300, 0.1, 0)).toBe(0);
    expect(evidenceOf(25, 300, 0.1, 0)).toBe(0);
  });

  it('needs a smaller shift the more payments there are', () => {
    const tau = driftSq(0, 0, 0.1);
    const shift = (n: number) => countSeverity(Math.round(n * 0.18), n, 0.1, tau, ADAPTIVE_PARAMS.failureEffect);
    expect(shift(150)).toBe(0);
    expect(shift(1_500)).toBeGreaterThan(0);
    expect(shift(15_000)).toBeGreaterThan(shift(1_500));
  });

  it('caps the severity by the effect size: clear evidence of a small shift is never critical', () => {
    expect(effectOf(0.085, ADAPTIVE_PARAMS.failureEffect)).toBeCloseTo(0.3 + (0.3 * 0.035) / 0.07, 10);
    expect(effectOf(0.01, ADAPTIVE_PARAMS.failureEffect)).toBe(0);
    expect(effectOf(0.5, ADAPTIVE_PARAMS.failureEffect)).toBe(1);
    const s = countSeverity(1_800, 10_000, 0.1, 0, ADAPTIVE_PARAMS.failureEffect);
    expect(s).toBeCloseTo(effectOf(0.08, ADAPTIVE_PARAMS.failureEffect), 10);
    expect(s).toBeLessThan(0.6);
  });

  it('is past the evidence ramp wherever the bound without logarithms says so (Pinsker)', () => {
    let sure = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0.0001, max: 0.999, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        (n, p0, u, k) => {
          const x = Math.min(n, Math.ceil(n * p0 + u * u * n * (1 - p0)));
          const r = x / n - p0;
          if (4 * n * r * r < EVIDENCE_SURE * (1 + n * k)) return;
          sure++;
          expect(evidenceK(x, n, p0, k, ADAPTIVE_PARAMS.evidence.corroborate)).toBeGreaterThanOrEqual(EVIDENCE_TOP);
        },
      ),
      { numRuns: 2_000 },
    );
    expect(sure).toBeGreaterThan(100);
  });

  it('winsorises what a bucket teaches the baseline: an outage moves it a small step', () => {
    // 100 of 100 failing against 10%: 100·(0.1·1.25 + 0.01) + 2·√9 + 1 = 20.5
    expect(winsorised(100, 100, 0.1)).toBeCloseTo(20.5, 10);
    expect(winsorised(12, 100, 0.1)).toBe(12);
  });
});

describe('adaptive model: scores', () => {
  it('scores recent behaviour like its baseline at exactly 0', () => {
    expect(evaluate(state())).toEqual({ score: 0, c: [0, 0, 0, 0, 0, 0, 0, 0], mask: 0 });
  });

  it('judges a processor against its own normal, at 35% as at 8%', () => {
    // A 35% baseline whose 10 s rates scatter by about 2 points (its learned drift).
    const high = { baseFailures: 3_500, recentFailures: 205, driftFailures: 0.4, driftWeight: 1_000 };
    expect(evaluate(state(high)).score).toBe(0);
    expect(evaluate(state({ ...high, recentFailures: 230 })).score).toBe(0);
    expect(evaluate(state({ ...high, recentFailures: 300 })).c[0]).toBeGreaterThan(0.3);
  });

  it('stays critical through a 45-minute outage: the baseline does not learn it', () => {
    const scorer = new RiskScorer({
      model: 'adaptive',
      windowSec: 300,
      allowedLatenessSec: 30,
      thresholds: [0.3, 0.6, 0.8],
    });
    const bands: string[] = [];
    for (let i = 0; i < 55 * 60 * 20; i++) {
      const outage = i >= 10 * 60 * 20;
      const failed = outage ? i % 20 !== 0 : i % 12 === 0;
      const a = scorer.score(envelope({ at: T0 + i * 50, category: failed ? 'card_declined' : undefined }));
      if (i >= 11 * 60 * 20) bands.push(a.band);
    }
    expect(bands.every((b) => b === 'critical')).toBe(true);
  });

  it('names timeouts and auth clusters as drivers', () => {
    const r = evaluate(state({ recentFailures: 250, recentAuthFailures: 100, recentTimeouts: 100 }));
    expect(r.mask & 0b10101).toBe(0b10101);
  });

  it('caps volume below elevated: a surge is named but opens no warning', () => {
    const burst = {
      recentEvents: 30_000,
      recentFailures: 2_400,
      recentTimeouts: 240,
      recentAuthFailures: 150,
      recentRetrySum: 6_000,
    };
    expect(evaluate(state({ ...burst, baseBuckets: 5 })).c[3]).toBe(0);
    const r = evaluate(state(burst));
    expect(r.c[3]).toBe(ADAPTIVE_PARAMS.traffic.max);
    expect(r.score).toBeLessThan(0.3);
    expect(r.mask).toBe(0b1000);
  });

  it('names no driver below the band but volume, and the largest signal at a band', () => {
    const c = Float64Array.of(0.2, 0.1, 0.14, 0.2, 0.05, 0, 0, 0);
    expect(adaptiveModel.driverMask(c, 0.29, 0.3)).toBe(0b1000);
    expect(adaptiveModel.driverMask(c, 0.35, 0.3)).toBe(0b1001);
    const small = Float64Array.of(0.12, 0.1, 0.14, 0, 0.05, 0, 0, 0);
    expect(adaptiveModel.driverMask(small, 0.35, 0.3)).toBe(0b100);
  });

  it('counts novel geos beyond the usual novelty, once older buckets exist', () => {
    expect(evaluate(state({ novelGeos: 30 })).c[5]).toBeCloseTo(0.6, 6);
    expect(evaluate(state({ novelGeos: 30, baseNovelSum: 60, baseNovelWeight: 10 })).c[5]).toBeCloseTo(
      (0.6 * (30 - 4 - 12)) / 16,
      6,
    );
    expect(evaluate(state({ novelGeos: 30, windowEvents: 600 })).c[5]).toBe(0);
  });
});

describe('adaptive model: cold start', () => {
  /** No bucket has left the window: the baseline is the prior (10% failures). */
  const cold = (over: Partial<Record<keyof ProcessorWindow, number>>) =>
    state({
      ...{ baseBuckets: 0, baseEvents: 0, baseFailures: 0, baseTimeouts: 0, baseAuthFailures: 0, baseRetrySum: 0 },
      ...{ recentTimeouts: 0, recentAuthFailures: 0, recentRetrySum: 0, firstEventMs: T0 - 100_000 },
      ...over,
    });
  const prior = (x: number, n: number) => countSeverity(x, n, 0.1, driftSq(0, 0, 0.1), ADAPTIVE_PARAMS.failureEffect);

  it('weighs everything the processor sent against the prior, with the evidence of at most 150 events', () => {
    // 5 of the last 15 events failed (under 4 excess failures: nothing alone, but evidence
    // z ≈ 2.4 that corroborates the window), 18 of all 40.
    const quiet = { windowEvents: 40, windowFailures: 18, recentEvents: 15, recentFailures: 5 };
    expect(prior(5, 15)).toBe(0);
    expect(prior(18, 40)).toBeGreaterThan(0.5);
    expect(evaluate(cold(quiet)).c[0]).toBeCloseTo(prior(18, 40), 10);
    // The recent span no longer corroborates it (an incident that has ended): off.
    expect(evaluate(cold({ ...quiet, recentFailures: 2 })).c[0]).toBe(0);
    // A bucket has left the window: the baseline is the processor's own, the look is off.
    expect(evaluate(cold({ ...quiet, baseBuckets: 1 })).c[0]).toBe(0);
    // 400 events at 45%: weighed as 150 at that rate.
    const many = { windowEvents: 400, windowFailures: 180, recentEvents: 140, recentFailures: 30 };
    expect(evaluate(cold(many)).c[0]).toBeCloseTo(prior(67.5, 150), 10);
    // 150 events in 30 s: the 30 s look holds that evidence itself.
    expect(evaluate(cold({ ...many, recentEvents: 150, recentFailures: 32 })).c[0]).toBeCloseTo(prior(32, 150), 10);
  });

  const run = (seconds: number, every: number, failing: (t: number) => boolean) => {
    const scorer = new RiskScorer({
      model: 'adaptive',
      windowSec: 300,
      allowedLatenessSec: 30,
      thresholds: [0.3, 0.6, 0.8],
    });
    const bands: { t: number; band: string }[] = [];
    for (let i = 0; i * every < seconds; i++) {
      const t = i * every;
      const a = scorer.score(
        envelope({ at: T0 + Math.round(t * 1000), category: failing(i) ? 'card_declined' : undefined }),
      );
      bands.push({ t, band: a.band });
    }
    return bands;
  };

  it('holds elevated on a processor at 0.5 event/s failing 45% from its first event, not on one at 10%', () => {
    // 9 of every 20 events fail, spread out.
    const bad = run(300, 2, (i) => (i * 9) % 20 < 9);
    const first = bad.find((b) => b.band !== 'low');
    expect(first).toBeDefined();
    expect(first!.t).toBeLessThan(120);
    // Held, not a touch: elevated or worse from 30 s after the first alarm to the window's end.
    expect(bad.filter((b) => b.t >= first!.t + 30).every((b) => b.band !== 'low')).toBe(true);
    expect(run(300, 2, (i) => i % 10 === 0).every((b) => b.band === 'low')).toBe(true);
  });

  it('lets go of an outage inside the first window within a minute of its end', () => {
    // 3 events/s, 6% failing, 90% from 90 s to 165 s.
    const bands = run(300, 1 / 3, (i) => (i >= 270 && i < 495 ? i % 10 !== 0 : i % 17 === 0));
    expect(bands.filter((b) => b.t >= 100 && b.t < 165).every((b) => b.band !== 'low')).toBe(true);
    expect(bands.filter((b) => b.t >= 225).every((b) => b.band === 'low')).toBe(true);
  });
});
