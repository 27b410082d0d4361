/**
 * The adaptive model (default): each signal compares the processor's recent span (30 s) with its
 * own decayed baseline, turns the excess into a severity in [0, 1] through a dead zone and a
 * slope, and the severities combine as a noisy-OR:
 *
 *   score = 1 − Π (1 − sᵢ)
 *
 * One strong signal is enough to escalate (a full outage is critical on failures alone), several
 * moderate ones reinforce each other, and signals inside their dead zone add exactly nothing, so
 * ordinary noise never accumulates into a band. Recent rates are shrunk toward the baseline by a
 * few pseudo-events so that a quiet processor's handful of events cannot swing the score.
 * Baseline rates are clamped to ceilings: a long incident cannot teach the model that failing
 * is normal. docs/risk-model.md has the rationale and the tuning on the scenario suite.
 */
import { BUCKET_MS } from './risk-window.js';
import type { WindowView } from './processor-window.js';
import { clamp01 } from './risk-model.js';
import type { RiskModel } from './risk-model.js';

/** Every tuning constant, in one place for the docs and the tests. */
export const ADAPTIVE_PARAMS = Object.freeze({
  /** Pseudo-events pulling recent rates toward the baseline. */
  shrinkEvents: 30,
  /** Pseudo-events of prior behaviour in the baseline (what a new processor is assumed to do). */
  priorEvents: 200,
  prior: { failureRate: 0.1, timeoutRate: 0.01, authRate: 0.01, avgRetry: 0.2 },
  /** Baseline rates are clamped into these ranges. */
  baselineRange: {
    failureRate: [0.02, 0.2],
    timeoutRate: [0.005, 0.05],
    authRate: [0.005, 0.05],
    avgRetry: [0.05, 1],
  },
  /** Failure severity: max of the excess over baseline and the absolute rate. */
  failure: { deadZone: 0.08, slope: 0.3, absoluteFrom: 0.2, absoluteSlope: 0.5 },
  timeout: { deadZone: 0.05, slope: 0.3 },
  auth: { deadZone: 0.03, slope: 0.25 },
  retry: { deadZone: 0.3, slope: 2 },
  /** Volume over baseline: ratio from which it counts, slope, ceiling, Poisson pseudo-events. */
  traffic: { from: 2, slope: 4, max: 0.5, pseudoEvents: 20, minBaselineBuckets: 6 },
  /** Novel geos beyond `deadZone + baselineFactor × usual novel count`. */
  geo: { deadZone: 4, baselineFactor: 2, slope: 16, max: 0.6, minOlderEvents: 50 },
  /** Severity from which a signal is named as a driver. */
  driverFrom: 0.15,
});

const P = ADAPTIVE_PARAMS;

function clamp(x: number, range: readonly number[]): number {
  const lo = range[0] ?? 0;
  const hi = range[1] ?? 1;
  return x < lo ? lo : x > hi ? hi : x;
}

export const adaptiveModel: RiskModel = {
  name: 'adaptive',

  evaluate(w: WindowView, c: Float64Array): number {
    const be = w.baseEvents + P.priorEvents;
    const fb = clamp((w.baseFailures + P.priorEvents * P.prior.failureRate) / be, P.baselineRange.failureRate);
    const tb = clamp((w.baseTimeouts + P.priorEvents * P.prior.timeoutRate) / be, P.baselineRange.timeoutRate);
    const ab = clamp((w.baseAuthFailures + P.priorEvents * P.prior.authRate) / be, P.baselineRange.authRate);
    const rb = clamp((w.baseRetrySum + P.priorEvents * P.prior.avgRetry) / be, P.baselineRange.avgRetry);

    const n = w.recentEvents + P.shrinkEvents;
    const fr = (w.recentFailures + P.shrinkEvents * fb) / n;
    const tr = (w.recentTimeouts + P.shrinkEvents * tb) / n;
    const ar = (w.recentAuthFailures + P.shrinkEvents * ab) / n;
    const rr = (w.recentRetrySum + P.shrinkEvents * rb) / n;

    const sFail = Math.max(
      clamp01((fr - fb - P.failure.deadZone) / P.failure.slope),
      clamp01((fr - P.failure.absoluteFrom) / P.failure.absoluteSlope),
    );
    const sRetry = clamp01((rr - rb - P.retry.deadZone) / P.retry.slope);
    const sTimeout = clamp01((tr - tb - P.timeout.deadZone) / P.timeout.slope);
    const sAuth = clamp01((ar - ab - P.auth.deadZone) / P.auth.slope);

    let sTraffic = 0;
    if (w.baseBuckets >= P.traffic.minBaselineBuckets) {
      const elapsed = w.watermarkMs - w.wmBucket * BUCKET_MS;
      const span = Math.min((w.recentBucketCount - 1) * BUCKET_MS + elapsed, w.watermarkMs - w.firstEventMs) + 1;
      const expected = ((w.baseEvents / w.baseBuckets) * span) / BUCKET_MS;
      const ratio = (w.recentEvents + P.traffic.pseudoEvents) / (expected + P.traffic.pseudoEvents);
      sTraffic = P.traffic.max * clamp01((ratio - P.traffic.from) / P.traffic.slope);
    }

    let sGeo = 0;
    if (w.windowEvents - w.recentEvents >= P.geo.minOlderEvents) {
      const usual = w.baseNovelWeight > 0 ? w.baseNovelSum / w.baseNovelWeight : 0;
      sGeo = P.geo.max * clamp01((w.novelGeos - P.geo.deadZone - P.geo.baselineFactor * usual) / P.geo.slope);
    }

    c[0] = sFail;
    c[1] = sRetry;
    c[2] = sTimeout;
    c[3] = sTraffic;
    c[4] = sAuth;
    c[5] = sGeo;
    return 1 - (1 - sFail) * (1 - sRetry) * (1 - sTimeout) * (1 - sTraffic) * (1 - sAuth) * (1 - sGeo);
  },

  driverMask(c: Float64Array, score: number, elevated: number): number {
    let mask = 0;
    let top = -1;
    let topValue = 0;
    for (let i = 0; i < c.length; i++) {
      const v = c[i] ?? 0;
      if (v >= P.driverFrom) mask |= 1 << i;
      if (v > topValue) {
        topValue = v;
        top = i;
      }
    }
    // Several sub-threshold signals can add up to a band; the band then names its largest one
    // rather than claiming nominal behaviour.
    if (mask === 0 && score >= elevated && top >= 0) mask = 1 << top;
    return mask;
  },
};
