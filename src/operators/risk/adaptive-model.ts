/**
 * The adaptive model (default): each signal weighs the processor's recent span (30 s) against
 * its own decayed, winsorised baseline as *evidence* — how far outside the noise the recent
 * count lies for the volume at hand — and turns it into a severity in [0, 1]. Severities
 * combine as a noisy-OR:
 *
 *   score = 1 − Π (1 − sᵢ)
 *
 * Failures, timeouts and auth failures are counts out of the recent events: their evidence is
 * the tempered signed likelihood root of a binomial test (`evidenceOf`), so the more payments,
 * the smaller the shift that counts, down to a floor set by the tempering (ordinary drift of
 * the processor's own rate). A severity is the smaller of an evidence ramp and an effect-size
 * ramp: clear evidence of a small shift says `elevated`, never `critical`. Volume alone is
 * capped below `elevated`: a surge with a normal failure rate is named, but opens no warning.
 * docs/risk-model.md has the formula, its error rates and the scenario table.
 */
import { BUCKET_MS } from './risk-window.js';
import { BASELINE_PRIOR, baselineRate, driftSq } from './baseline.js';
import type { WindowView } from './processor-window.js';
import { CATEGORY_PRIOR, focusOf as focusOfCell } from './segment-cells.js';
import type { RiskFocus, SegmentState, SegmentTable } from './segment-cells.js';
import { clamp01 } from './risk-model.js';
import type { RiskModel } from './risk-model.js';

/** Every tuning constant, in one place for the docs and the tests. */
export const ADAPTIVE_PARAMS = Object.freeze({
  /**
   * Evidence (in standard deviations) from which a count signal counts, its ramp to 1, the
   * fewest excess events that can make a shift (a couple of failures at 1 event/s are not one),
   * and the recent span's evidence that lets the 10 s look count (`spanSeverity`).
   */
  evidence: { from: 3, span: 4, minExcess: 4, corroborate: 2 },
  /** Effect-size ramps: [excess rate, severity] knots, linear between, 1 beyond the last. */
  failureEffect: [
    [0.02, 0],
    [0.05, 0.3],
    [0.12, 0.6],
    [0.2, 0.8],
    [0.3, 1],
  ],
  timeoutEffect: [
    [0.01, 0],
    [0.03, 0.3],
    [0.08, 0.6],
    [0.15, 0.8],
    [0.25, 1],
  ],
  authEffect: [
    [0.01, 0],
    [0.03, 0.3],
    [0.1, 0.6],
    [0.2, 0.8],
    [0.3, 1],
  ],
  /**
   * Segment cells: severity is the least of the evidence ramp, the effect ramp (failureEffect)
   * on the cell's excess rate, and the impact ramp on its excess failures as a share of the
   * processor's recent events, times the concentration factor: the lift of the cell's share of
   * the processor's excess failures over its share of traffic, `(share − traffic)/(1 − traffic)`,
   * counted from `concentration[0]`, in full from `[1]`.
   */
  impactEffect: [
    [0.005, 0],
    [0.015, 0.3],
    [0.05, 0.6],
    [0.1, 0.8],
    [0.2, 1],
  ],
  concentration: [0.2, 0.6],
  /** Retries per event: pseudo-events shrinking the recent rate, baseline range, dead zone, slope. */
  retry: { shrinkEvents: 30, baselineRange: [0.05, 1], deadZone: 0.3, slope: 2 },
  /** Volume over baseline: ratio from which it counts, slope, ceiling, Poisson pseudo-events. */
  traffic: { from: 2, slope: 4, max: 0.25, pseudoEvents: 20, minBaselineBuckets: 6 },
  /** Novel geos beyond `deadZone + baselineFactor × usual novel count`. */
  geo: { deadZone: 4, baselineFactor: 2, slope: 16, max: 0.6, minOlderEvents: 50 },
  /** Severity from which a signal is named as a driver. */
  driverFrom: 0.15,
});

const P = ADAPTIVE_PARAMS;
type Knots = readonly (readonly number[])[];

/**
 * Evidence that `x` of `n` exceeds the rate `p0`, in standard deviations: the signed root of
 * the binomial likelihood ratio `2n·KL(x/n ‖ p0)`, divided by the over-dispersion factor
 * `1 + n·τ²/(p0(1−p0))`, τ² the processor's learned drift of that rate (`driftSq`). 0 when
 * `x/n ≤ p0`. Under the null it behaves like a one-sided standard normal (3 ≈ 1.3·10⁻³ per
 * look, 4.2 ≈ 1.3·10⁻⁵); at any volume it stays below shift / τ. Values up to `from` may
 * read as 0 (they are not computed).
 */
export function evidenceOf(x: number, n: number, p0: number, tauSq: number, from = P.evidence.from): number {
  return p0 > 0 && p0 < 1 ? evidenceK(x, n, p0, tauSq / (p0 * (1 - p0)), from) : 0;
}

/** `evidenceOf` with the over-dispersion per event, `k = τ²/(p0(1−p0))`, computed once per bucket. */
function evidenceK(x: number, n: number, p0: number, k: number, from: number): number {
  const mean = n * p0;
  if (n <= 0 || x <= mean || p0 <= 0 || p0 >= 1) return 0;
  const q0 = 1 - p0;
  const phi = 1 + n * k;
  // The score statistic bounds the likelihood root from above in the upper tail: most calls
  // (healthy traffic) end here without a logarithm.
  const d = x - mean;
  if (d * d <= from * from * mean * q0 * phi) return 0;
  const r = x / n;
  let kl = r * Math.log(r / p0);
  if (r < 1) kl += (1 - r) * Math.log((1 - r) / q0);
  return Math.sqrt((2 * n * kl) / phi);
}

/** Piecewise-linear severity of an excess rate through `knots`. */
export function effectOf(excess: number, knots: Knots): number {
  let x0 = 0;
  let y0 = 0;
  for (let i = 0; i < knots.length; i++) {
    const k = knots[i] ?? [0, 0];
    const x1 = k[0] ?? 0;
    const y1 = k[1] ?? 0;
    if (excess <= x1) return i === 0 ? 0 : y0 + ((y1 - y0) * (excess - x0)) / (x1 - x0);
    x0 = x1;
    y0 = y1;
  }
  return 1;
}

/** Severity of `x` of `n` against baseline rate `p0`: evidence ramp capped by the effect size. */
export function countSeverity(x: number, n: number, p0: number, tauSq: number, knots: Knots): number {
  if (x - n * p0 < P.evidence.minExcess) return 0;
  return severityOf(evidenceOf(x, n, p0, tauSq), x / n - p0, knots);
}

function severityOf(z: number, excess: number, knots: Knots): number {
  if (z <= P.evidence.from) return 0;
  const byEvidence = clamp01((z - P.evidence.from) / P.evidence.span);
  const byEffect = effectOf(excess, knots);
  return byEvidence < byEffect ? byEvidence : byEffect;
}

/** `countSeverity` for evidence `z` already computed (0 below the evidence threshold). */
function countSeverityOf(z: number, x: number, n: number, p0: number, knots: Knots): number {
  if (x - n * p0 < P.evidence.minExcess) return 0;
  return severityOf(z, x / n - p0, knots);
}

function clamp(x: number, range: readonly number[]): number {
  const lo = range[0] ?? 0;
  const hi = range[1] ?? 1;
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Baseline rates (failures, timeouts, auth failures, retries), the three drifts τ², and each
 * τ²/(p(1−p)), the over-dispersion per event of `evidenceK`.
 */
function deriveBaseline(w: WindowView, v: number[]): void {
  const be = w.baseEvents;
  const fb = baselineRate(w.baseFailures, be, BASELINE_PRIOR.failureRate);
  const tb = baselineRate(w.baseTimeouts, be, BASELINE_PRIOR.timeoutRate);
  const ab = baselineRate(w.baseAuthFailures, be, BASELINE_PRIOR.authRate);
  v[0] = fb;
  v[1] = tb;
  v[2] = ab;
  v[3] = clamp(baselineRate(w.baseRetrySum, be, BASELINE_PRIOR.avgRetry), P.retry.baselineRange);
  v[4] = driftSq(w.driftFailures, w.driftWeight, fb);
  v[5] = driftSq(w.driftTimeouts, w.driftWeight, tb);
  v[6] = driftSq(w.driftAuthFailures, w.driftWeight, ab);
  v[7] = (v[4] ?? 0) / (fb * (1 - fb));
  v[8] = (v[5] ?? 0) / (tb * (1 - tb));
  v[9] = (v[6] ?? 0) / (ab * (1 - ab));
}

export const adaptiveModel: RiskModel = {
  name: 'adaptive',
  segments: true,

  evaluate(w: WindowView, c: Float64Array): number {
    const d = w.derived;
    const v = d.values;
    if (d.bucket !== w.wmBucket) {
      d.bucket = w.wmBucket;
      deriveBaseline(w, v);
    }
    const fb = v[0] ?? 0;
    const tb = v[1] ?? 0;
    const ab = v[2] ?? 0;
    const rb = v[3] ?? 0;
    const fv = v[4] ?? 0;
    const tv = v[5] ?? 0;
    const av = v[6] ?? 0;

    // Two spans: the recent span (30 s) and the last 10 s of event time (the watermark's bucket
    // plus the share of the previous one those 10 s still cover), which sees a sharp onset
    // before it is diluted in 30 s of normal traffic. The short look counts only while the
    // recent span corroborates it (`spanSeverity`), so it is read only then.
    const n = w.recentEvents;
    const zf = evidenceK(w.recentFailures, n, fb, v[7] ?? 0, P.evidence.corroborate);
    const zt = evidenceK(w.recentTimeouts, n, tb, v[8] ?? 0, P.evidence.corroborate);
    const za = evidenceK(w.recentAuthFailures, n, ab, v[9] ?? 0, P.evidence.corroborate);
    let sFail = countSeverityOf(zf, w.recentFailures, n, fb, P.failureEffect);
    let sTimeout = countSeverityOf(zt, w.recentTimeouts, n, tb, P.timeoutEffect);
    let sAuth = countSeverityOf(za, w.recentAuthFailures, n, ab, P.authEffect);
    if (zf >= P.evidence.corroborate || zt >= P.evidence.corroborate || za >= P.evidence.corroborate) {
      const carry = 1 - clamp01((w.watermarkMs - w.wmBucket * BUCKET_MS) / BUCKET_MS);
      const n10 = w.bucketEvents(0) + carry * w.bucketEvents(1);
      if (zf >= P.evidence.corroborate) {
        const f10 = w.bucketFailures(0) + carry * w.bucketFailures(1);
        sFail = Math.max(sFail, countSeverity(f10, n10, fb, fv, P.failureEffect));
      }
      if (zt >= P.evidence.corroborate) {
        const t10 = w.bucketTimeouts(0) + carry * w.bucketTimeouts(1);
        sTimeout = Math.max(sTimeout, countSeverity(t10, n10, tb, tv, P.timeoutEffect));
      }
      if (za >= P.evidence.corroborate) {
        const a10 = w.bucketAuthFailures(0) + carry * w.bucketAuthFailures(1);
        sAuth = Math.max(sAuth, countSeverity(a10, n10, ab, av, P.authEffect));
      }
    }
    const rr = (w.recentRetrySum + P.retry.shrinkEvents * rb) / (n + P.retry.shrinkEvents);
    const sRetry = clamp01((rr - rb - P.retry.deadZone) / P.retry.slope);

    let sTraffic = 0;
    if (w.baseBuckets >= P.traffic.minBaselineBuckets) {
      const elapsed = w.watermarkMs - w.wmBucket * BUCKET_MS;
      const span = Math.min((w.recentBucketCount - 1) * BUCKET_MS + elapsed, w.watermarkMs - w.firstEventMs) + 1;
      const expected = ((w.baseEvents / w.baseBuckets) * span) / BUCKET_MS;
      const ratio = (n + P.traffic.pseudoEvents) / (expected + P.traffic.pseudoEvents);
      sTraffic = P.traffic.max * clamp01((ratio - P.traffic.from) / P.traffic.slope);
    }

    let sGeo = 0;
    if (w.windowEvents - n >= P.geo.minOlderEvents) {
      const usual = w.baseNovelWeight > 0 ? w.baseNovelSum / w.baseNovelWeight : 0;
      sGeo = P.geo.max * clamp01((w.novelGeos - P.geo.deadZone - P.geo.baselineFactor * usual) / P.geo.slope);
    }

    let sGeoConc = 0;
    let sSegConc = 0;
    const seg = w.segments;
    // Segments are judged once the processor has a baseline of its own to compare cells with.
    if (seg !== null && n > 0 && w.baseBuckets >= P.traffic.minBaselineBuckets) {
      updateSegments(seg, w.wmBucket, n, fb, w.recentFailures - n * fb);
      sGeoConc = topSeverity(seg.tables[0]);
      sSegConc = Math.max(topSeverity(seg.tables[1]), topSeverity(seg.tables[2]), topSeverity(seg.tables[3]));
    }

    c[0] = sFail;
    c[1] = sRetry;
    c[2] = sTimeout;
    c[3] = sTraffic;
    c[4] = sAuth;
    c[5] = sGeo;
    c[6] = sGeoConc;
    c[7] = sSegConc;
    return (
      1 -
      (1 - sFail) *
        (1 - sRetry) *
        (1 - sTimeout) *
        (1 - sTraffic) *
        (1 - sAuth) *
        (1 - sGeo) *
        (1 - sGeoConc) *
        (1 - sSegConc)
    );
  },

  focusOf(w: WindowView, mask: number): RiskFocus | undefined {
    const seg = w.segments;
    if (seg === null || (mask & (GEO_CONC | SEG_CONC)) === 0) return undefined;
    let best: RiskFocus | null = null;
    let bestValue = 0;
    for (let i = 0; i < seg.tables.length; i++) {
      if ((mask & (i === 0 ? GEO_CONC : SEG_CONC)) === 0) continue;
      const t = seg.tables[i];
      if (t === undefined || t.top < 0) continue;
      const v = t.severity[t.top] ?? 0;
      if (v > bestValue) {
        bestValue = v;
        best = focusOfCell(t, t.top);
      }
    }
    return best ?? undefined;
  },

  driverMask(c: Float64Array, score: number, elevated: number): number {
    // Below the band nothing is a driver but volume, capped below `elevated` by design: a
    // surge is shown without opening a warning. Drivers never contradict the band.
    if (score < elevated) return (c[TRAFFIC] ?? 0) >= P.driverFrom ? 1 << TRAFFIC : 0;
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
    if (mask === 0 && top >= 0) mask = 1 << top;
    return mask;
  },
};

/** Index of `traffic_volatility` in the components. */
const TRAFFIC = 3;
const CONC_FROM = P.concentration[0] ?? 0.2;
const CONC_FULL = P.concentration[1] ?? 0.6;

/** Driver bits of the two concentration signals (RISK_DRIVERS order). */
const GEO_CONC = 1 << 6;
const SEG_CONC = 1 << 7;

function topSeverity(t: SegmentTable | undefined): number {
  return t === undefined || t.top < 0 ? 0 : (t.severity[t.top] ?? 0);
}

/**
 * Brings cell severities up to date: every cell once per watermark bucket, else only the cells
 * the last event touched (a cell's severity moves with its own events; the processor-level
 * inputs drift slowly within a bucket). Keeps each table's `top` on its largest cell.
 */
function updateSegments(seg: SegmentState, bucket: number, n: number, fb: number, excess: number): void {
  const all = seg.evaluatedBucket !== bucket;
  seg.evaluatedBucket = bucket;
  for (let i = 0; i < seg.tables.length; i++) {
    const t = seg.tables[i];
    if (t === undefined) continue;
    if (all) {
      t.top = -1;
      for (let k = 0; k < t.keys.length; k++) {
        const v = t.keys[k] === '' ? 0 : cellSeverity(t, k, n, fb, excess);
        t.severity[k] = v;
        if (v > 0 && (t.top < 0 || v > (t.severity[t.top] ?? 0))) t.top = k;
      }
      continue;
    }
    const k = seg.touched[i] ?? -1;
    if (k < 0) continue;
    const before = t.severity[k] ?? 0;
    const v = cellSeverity(t, k, n, fb, excess);
    t.severity[k] = v;
    if (t.top === k && v < before) {
      t.top = -1;
      for (let j = 0; j < t.keys.length; j++) {
        const u = t.severity[j] ?? 0;
        if (u > 0 && (t.top < 0 || u > (t.severity[t.top] ?? 0))) t.top = j;
      }
    } else if (v > 0 && (t.top < 0 || v > (t.severity[t.top] ?? 0))) t.top = k;
  }
}

/** One cell's severity: evidence, effect, impact and concentration (ADAPTIVE_PARAMS). */
function cellSeverity(t: SegmentTable, k: number, n: number, fb: number, processorExcess: number): number {
  const category = t.dim === 'category';
  const x = t.recentFailures[k] ?? 0;
  const ne = category ? n : (t.recentEvents[k] ?? 0);
  if (ne <= 0 || x <= 0) return 0;
  const p0 = baselineRate(t.baseFailures[k] ?? 0, t.baseEvents[k] ?? 0, category ? CATEGORY_PRIOR * fb : fb);
  const excess = x - ne * p0;
  if (excess <= 0) return 0;
  const severity = countSeverity(x, ne, p0, driftSq(0, 0, p0), P.failureEffect);
  if (severity === 0) return 0;
  const impact = effectOf(excess / n, P.impactEffect);
  // Concentration: the cell's share of the processor's excess failures beyond its share of
  // traffic (of failures, for a category); a cell carrying most traffic concentrates nothing.
  const share = excess / (processorExcess > excess ? processorExcess : excess);
  const traffic = category ? (fb > 0 ? Math.min(1, p0 / fb) : 0) : ne / n;
  // A cell holding most of the traffic cannot be told from the whole: its lift stays small.
  const lift = (share - traffic) / (1 - traffic > 0.25 ? 1 - traffic : 0.25);
  const conc = clamp01((lift - CONC_FROM) / (CONC_FULL - CONC_FROM));
  return Math.min(severity, impact) * conc;
}
