import { describe, expect, it } from 'vitest';
import { ADAPTIVE_PARAMS, adaptiveModel } from '../../../../src/operators/risk/adaptive-model.js';
import { ProcessorWindow } from '../../../../src/operators/risk/processor-window.js';
import { T0 } from '../fixtures.js';

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
  const c = new Float64Array(6);
  const score = adaptiveModel.evaluate(w, c);
  return { score, c: [...c], mask: adaptiveModel.driverMask(c, Math.round(score * 100) / 100, 0.3) };
}

describe('adaptive model', () => {
  it('scores recent behaviour like its baseline at exactly 0', () => {
    expect(evaluate(state())).toEqual({ score: 0, c: [0, 0, 0, 0, 0, 0], mask: 0 });
  });

  it('scores a hand-computed failure excess: 25.9% recent (shrunk) over an 8% baseline', () => {
    // fb = (780 + 200·0.1) / 10 000 = 0.08; fr = (153 + 30·0.08) / 600 = 0.259
    // sFail = (0.259 − 0.08 − 0.08) / 0.3 = 0.33; sRetry = ((399 + 6) / 600 − 0.2 − 0.3) / 2 = 0.0875
    // score = 1 − 0.67 · 0.9125 = 0.3886
    const r = evaluate(state({ recentFailures: 153, recentTimeouts: 15, recentAuthFailures: 9, recentRetrySum: 399 }));
    expect(r.score).toBeCloseTo(0.388625, 6);
    expect(r.c[0]).toBeCloseTo(0.33, 6);
    expect(r.c[1]).toBeCloseTo(0.0875, 6);
    expect(r.mask).toBe(0b1);
  });

  it('cannot learn that failing is normal: baseline rates are capped', () => {
    const r = evaluate(state({ baseFailures: 6_000, baseTimeouts: 6_000, recentFailures: 540, recentTimeouts: 540 }));
    expect(r.score).toBe(1);
    expect(r.mask & 0b101).toBe(0b101);
  });

  it('flags a high failure rate on its own even against a high baseline', () => {
    // 35% failures: the absolute term alone reaches elevated.
    const r = evaluate(state({ baseFailures: 3_000, recentFailures: 200 }));
    expect(r.c[0]).toBeGreaterThanOrEqual(0.28);
  });

  it('judges volume only once a baseline of at least a minute exists', () => {
    const burst = { recentEvents: 3_000, recentFailures: 240, recentRetrySum: 600 };
    expect(evaluate(state({ ...burst, baseBuckets: 5 })).c[3]).toBe(0);
    const r = evaluate(state(burst));
    expect(r.c[3]).toBeCloseTo(ADAPTIVE_PARAMS.traffic.max * Math.min(1, (3_020 / (408.35 + 20) - 2) / 4), 2);
    expect(r.mask).toBe(0b1000);
  });

  it('counts novel geos beyond the usual novelty, once older buckets exist', () => {
    expect(evaluate(state({ novelGeos: 30 })).c[5]).toBeCloseTo(0.6, 6);
    expect(evaluate(state({ novelGeos: 30, baseNovelSum: 60, baseNovelWeight: 10 })).c[5]).toBeCloseTo(
      (0.6 * (30 - 4 - 12)) / 16,
      6,
    );
    expect(evaluate(state({ novelGeos: 30, windowEvents: 600 })).c[5]).toBe(0);
  });

  it('names auth clusters and timeouts as drivers', () => {
    const r = evaluate(state({ recentFailures: 250, recentAuthFailures: 100, recentTimeouts: 100 }));
    expect(r.mask & 0b10100).toBe(0b10100);
  });

  it('names the largest signal when sub-threshold signals add up to a band', () => {
    const c = Float64Array.of(0.12, 0.1, 0.14, 0, 0.05, 0);
    expect(adaptiveModel.driverMask(c, 0.35, 0.3)).toBe(0b100);
    expect(adaptiveModel.driverMask(c, 0.29, 0.3)).toBe(0);
  });
});
