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
 * the processor's own rate). In its first window (no baseline of its own yet) a quiet
 * processor's whole window is also weighed against the prior: the cold-start look. A severity
 * is the smaller of an evidence ramp and an effect-size ramp: clear evidence of a small shift
 * says `elevated`, never `critical`. Volume alone is
 * capped below `elevated`: a surge with a normal failure rate is named, but opens no warning.
 * The arithmetic of evidence is in evidence.ts, the segment cells' severity in
 * segment-severity.ts; docs/risk-model.md has the formula and its error rates.
 */
import { BUCKET_MS } from './risk-window.js';
import { BASELINE_PRIOR, baselineRate, driftSq } from './baseline.js';
import type { WindowView } from './processor-window.js';
import { focusOf as focusOfCell, severityAt } from './segment-cells.js';
import type { RiskFocus } from './segment-cells.js';
import { ADAPTIVE_PARAMS, EVIDENCE_SURE, EVIDENCE_TOP, countSeverity, countSeverityOf, evidenceK } from './evidence.js';
import { updateSegments } from './segment-severity.js';
import { advanceSequential, deriveSequential, sequentialSeverity } from './sequential.js';
import { clamp01 } from './risk-model.js';
import type { RiskModel } from './risk-model.js';

export { ADAPTIVE_PARAMS, countSeverity, effectOf, evidenceOf } from './evidence.js';

const P = ADAPTIVE_PARAMS;

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

/**
 * The count signals into components 0, 2 and 4 (failures, timeouts, auth failures): evidence of
 * each recent count against its baseline, and the last 10 s of event time (the watermark's
 * bucket plus the share of the previous one those 10 s still cover), which sees a sharp onset
 * before it is diluted in 30 s of normal traffic; the short look counts only while the recent
 * span corroborates it, so it is read only then. One call for the three, taking and returning
 * no numbers: V8 boxes every double passed to or returned from a call it does not inline, and
 * `evaluate` is past its inlining budget (the three signals inlined into it left evidence and
 * severity calls out, ~80 B an event); a call per signal cost two calls more per event.
 */
function countSignals(w: WindowView, v: readonly number[], c: Float64Array): void {
  const n = w.recentEvents;
  const corroborate = P.evidence.corroborate;
  for (let i = 0; i < 3; i++) {
    const p0 = v[i] ?? 0;
    const x = i === 0 ? w.recentFailures : i === 1 ? w.recentTimeouts : w.recentAuthFailures;
    const k = v[7 + i] ?? 0;
    // `evidenceK`'s and `countSeverityOf`'s own first tests, made before the calls: healthy
    // traffic ends here, and a call that is not inlined boxes its double arguments.
    const mean = n * p0;
    const d = x - mean;
    if (n <= 0 || d <= 0 || p0 <= 0 || p0 >= 1 || d * d <= corroborate * corroborate * mean * (1 - p0) * (1 + n * k)) {
      c[2 * i] = 0;
      continue;
    }
    const knots = i === 0 ? P.failureEffect : i === 1 ? P.timeoutEffect : P.authEffect;
    // Past the evidence ramp's top, no logarithm (EVIDENCE_SURE): an outage's counts are.
    const rate = x / n - p0;
    const z = 4 * n * rate * rate >= EVIDENCE_SURE * (1 + n * k) ? EVIDENCE_TOP : evidenceK(x, n, p0, k, corroborate);
    let s = z > P.evidence.from && d >= P.evidence.minExcess ? countSeverityOf(z, x, n, p0, knots) : 0;
    // The short look can only raise the severity, and not past 1.
    if (z >= corroborate && s < 1) {
      const carry = 1 - clamp01((w.watermarkMs - w.wmBucket * BUCKET_MS) / BUCKET_MS);
      const n10 = w.bucketEvents(0) + carry * w.bucketEvents(1);
      const x10 =
        i === 0
          ? w.bucketFailures(0) + carry * w.bucketFailures(1)
          : i === 1
            ? w.bucketTimeouts(0) + carry * w.bucketTimeouts(1)
            : w.bucketAuthFailures(0) + carry * w.bucketAuthFailures(1);
      // `countSeverity`'s own first test, made before the call (it boxes its arguments).
      if (x10 - n10 * p0 >= P.evidence.minExcess) s = Math.max(s, countSeverity(x10, n10, p0, v[4 + i] ?? 0, knots));
    }
    c[2 * i] = s;
  }
}

/** Driver bits of the two concentration signals (RISK_DRIVERS order). */
const GEO_CONC = 1 << 6;
const SEG_CONC = 1 << 7;

export const adaptiveModel: RiskModel = {
  name: 'adaptive',
  segments: true,
  focusDrivers: GEO_CONC | SEG_CONC,

  evaluate(w: WindowView, c: Float64Array): number {
    const d = w.derived;
    const v = d.values;
    if (d.bucket !== w.wmBucket) {
      d.bucket = w.wmBucket;
      deriveBaseline(w, v);
      deriveSequential(w, v, v[4] ?? 0);
      advanceSequential(w, v);
    }
    countSignals(w, v, c);
    // The sequential test: evidence accumulated over minutes, for processors too quiet for 30 s.
    const sSeq = sequentialSeverity(w, v);
    let sFail = sSeq > (c[0] ?? 0) ? sSeq : (c[0] ?? 0);
    const sTimeout = c[2] ?? 0;
    const sAuth = c[4] ?? 0;
    const fb = v[0] ?? 0;
    const rb = v[3] ?? 0;
    const n = w.recentEvents;
    // Cold start: until a bucket leaves the window, the window holds all the processor has sent
    // and the baseline is the prior. While the recent span holds fewer than `coldStart.events`,
    // the window's failure rate is weighed against the prior with the evidence of at most that
    // many events (what a processor at 5 events/s has in 30 s), while the recent span
    // corroborates it: an incident that has ended is no longer evidence (docs/risk-model.md).
    if (
      w.baseBuckets === 0 &&
      n < P.coldStart.events &&
      w.windowEvents > n &&
      evidenceK(w.recentFailures, n, fb, v[7] ?? 0, P.evidence.corroborate) >= P.evidence.corroborate
    ) {
      const ne = w.windowEvents < P.coldStart.events ? w.windowEvents : P.coldStart.events;
      const fe = (w.windowFailures * ne) / w.windowEvents;
      const sCold = countSeverityOf(evidenceK(fe, ne, fb, v[7] ?? 0, P.evidence.from), fe, ne, fb, P.failureEffect);
      if (sCold > sFail) sFail = sCold;
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
      updateSegments(seg, w);
      // Read in place: a call returning a number that is not inlined (this function is past
      // V8's inlining budget) allocates a heap number per call, per event.
      const tables = seg.tables;
      for (let i = 0; i < tables.length; i++) {
        const t = tables[i];
        if (t === undefined || t.top < 0) continue;
        const v = severityAt(t, t.top);
        if (i === 0) sGeoConc = v;
        else if (v > sSegConc) sSegConc = v;
      }
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
      const v = severityAt(t, t.top);
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
