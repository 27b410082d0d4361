/**
 * The adaptive model's sequential test: a one-sided Bernoulli CUSUM (Page 1954) on the
 * processor's failure counts against its protected baseline, over completed 10 s buckets. It
 * accumulates evidence over minutes where the 30 s look sees a dozen events (a +20-point shift
 * at 0.5 event/s), and says nothing on busy processors that the 30 s look has not said sooner.
 *
 * Per bucket k of nₖ events and xₖ failures, against the baseline rate p₀ and the design rate
 * p₁ = p₀ + max(shift·τ, minShift) (τ the learned drift of the rate, `driftSq`):
 *
 *   Wₖ = (xₖ·ln(p₁/p₀) + (nₖ − xₖ)·ln((1−p₁)/(1−p₀))) / φₖ,   φₖ = 1 + nₖ·τ²/(p₀(1−p₀))
 *   Sₖ = min(threshold + span, max(0, Sₖ₋₁ + Wₖ))
 *
 * φ tempers a bucket's likelihood ratio by the drift as `evidenceOf` does: at low volume (φ ≈ 1)
 * S is the log-likelihood ratio of the classic chart; on a busy processor it is a chart on the
 * bucket rates in units of τ, so normal drift does not add up. S is read with the watermark's
 * partial bucket added; from `threshold` on it is evidence of a sustained shift, and its
 * severity runs from 0.3 (elevated) at the threshold to 0.6 at threshold + span, capped by the
 * failure effect ramp on the run's excess rate (failures over expected since S last left 0),
 * and 0 while that excess is under `minRunExcess`. p₀ is the processor's own decayed rate,
 * without the prior's pseudo-events; the chart is off until the baseline holds
 * `minBaselineBuckets` buckets and as many events of its own as the prior.
 *
 * The run ends — S back to 0 — when the bucket counts since the run rate was estimated favour
 * the baseline over that rate by `recover` nats (a second CUSUM, Rₖ = max(0, Rₖ₋₁ + Vₖ), Vₖ the
 * tempered log-likelihood ratio of p₀ against the run rate): after an incident, recovery is
 * judged against what the incident looked like, not against the small design shift, and takes
 * a few buckets even at 0.5 event/s.
 *
 * Error rates: without drift, the chart's false-alarm run length is at least e^threshold
 * buckets (the Wald bound for a log-likelihood-ratio CUSUM: e¹⁰ ≈ 22 000 buckets, 2.5 days).
 * Measured on the suite's healthy classes (0.5–500 events/s, drift, seasonality, surges): see
 * docs/risk-model.md.
 *
 * State: six numbers in the window (`ProcessorWindow.sequential`), plain data; five derived
 * per watermark bucket. O(1) per event; once per bucket, one step per bucket completed since.
 */
import { BASELINE_PRIOR, DRIFT } from './baseline.js';
import { effectOf, ADAPTIVE_PARAMS } from './evidence.js';
import type { WindowView } from './processor-window.js';

export const SEQUENTIAL = Object.freeze({
  /** Design shift in units of the learned drift τ, and its floor (absolute rate). */
  shift: 4,
  minShift: 0.02,
  /** S (nats) from which it is evidence, and the span over which its severity rises. */
  threshold: 10,
  span: 6,
  /** Severity at the threshold and at threshold + span. */
  severity: [0.3, 0.6],
  /** Nats of evidence for the baseline against the run rate that end a run. */
  recover: 4,
  /** The run's excess failure rate from which the chart raises the failure signal. */
  minRunExcess: 0.08,
  /** Baseline history (buckets, 5 minutes) and own events (the prior's weight) it needs. */
  minBaselineBuckets: 30,
});

/** Indices in `ProcessorWindow.sequential`. */
const S = 0;
const RUN_N = 1;
const RUN_X = 2;
const R = 3;
const LAST = 4;
const REF = 5;

/** Indices in the window's derived values (after the baseline's ten). */
export const SEQ_DERIVED = 10;

/**
 * The chart's reference p₀ into `v[SEQ_DERIVED]`, with ln(p₁/p₀), ln((1−p₁)/(1−p₀)), p₁ and
 * τ²/(p₀(1−p₀)) after it; p₀ = 0 while the processor's own history does not yet outweigh the
 * baseline's prior (the chart is off then).
 */
export function deriveSequential(w: WindowView, v: number[], tauSq: number): void {
  const be = w.baseEvents;
  if (be < BASELINE_PRIOR.events || w.baseBuckets < SEQUENTIAL.minBaselineBuckets) {
    v[SEQ_DERIVED] = 0;
    return;
  }
  // The processor's own rate: the prior's pseudo-events would bias a quiet processor's
  // reference towards 10% for hours, and minutes of accumulation find any bias.
  const p0 = clampRate(w.baseFailures / be);
  const t0 = DRIFT.relative * p0 + DRIFT.absolute;
  const tau = Math.max(Math.sqrt(tauSq), t0);
  const p1 = Math.min(0.995, p0 + Math.max(SEQUENTIAL.shift * tau, SEQUENTIAL.minShift));
  v[SEQ_DERIVED] = p0;
  v[SEQ_DERIVED + 1] = Math.log(p1 / p0);
  v[SEQ_DERIVED + 2] = Math.log((1 - p1) / (1 - p0));
  v[SEQ_DERIVED + 3] = p1;
  v[SEQ_DERIVED + 4] = (tau * tau) / (p0 * (1 - p0));
}

const clampRate = (p: number): number => (p < 0.001 ? 0.001 : p > 0.99 ? 0.99 : p);

/**
 * Feeds the chart the buckets completed since it last ran (those before the watermark's, at
 * most a window of them), with the values `deriveSequential` put in `v`.
 */
export function advanceSequential(w: WindowView, v: readonly number[]): void {
  const q = w.sequential;
  const to = w.wmBucket - 1;
  const p0 = v[SEQ_DERIVED] ?? 0;
  if (p0 <= 0) {
    q[S] = q[RUN_N] = q[RUN_X] = q[R] = q[REF] = 0;
    q[LAST] = to;
    return;
  }
  let b = Math.max((q[LAST] ?? 0) + 1, w.wmBucket - w.bucketCount + 1);
  const up = v[SEQ_DERIVED + 1] ?? 0;
  const down = v[SEQ_DERIVED + 2] ?? 0;
  const p1 = v[SEQ_DERIVED + 3] ?? 1;
  const k = v[SEQ_DERIVED + 4] ?? 0;
  for (; b <= to; b++) {
    const n = w.eventsInBucket(b);
    if (n === 0) continue;
    const x = w.failuresInBucket(b);
    const phi = 1 + n * k;
    let s = (q[S] ?? 0) + (x * up + (n - x) * down) / phi;
    if (s <= 0) {
      q[S] = q[RUN_N] = q[RUN_X] = q[R] = q[REF] = 0;
      continue;
    }
    const cap = SEQUENTIAL.threshold + SEQUENTIAL.span;
    if (s > cap) s = cap;
    const rn = (q[RUN_N] ?? 0) + n;
    const rx = (q[RUN_X] ?? 0) + x;
    q[S] = s;
    q[RUN_N] = rn;
    q[RUN_X] = rx;
    // The shifted rate, estimated when the chart first reaches its threshold in this run.
    if (s >= SEQUENTIAL.threshold && (q[REF] ?? 0) === 0) q[REF] = Math.min(0.99, Math.max(p1, rx / rn));
    const r = q[REF] ?? 0;
    if (r > 0) {
      // Recovery: do the counts since favour the baseline over that rate?
      const back = (q[R] ?? 0) + (x * Math.log(p0 / r) + (n - x) * Math.log((1 - p0) / (1 - r))) / phi;
      if (back >= SEQUENTIAL.recover) q[S] = q[RUN_N] = q[RUN_X] = q[R] = q[REF] = 0;
      else q[R] = back > 0 ? back : 0;
    }
  }
  q[LAST] = to;
}

/**
 * Severity of the chart read now: S with the watermark's partial bucket added, from the
 * threshold on, capped by the failure effect ramp on the run's excess rate; 0 below.
 */
export function sequentialSeverity(w: WindowView, v: readonly number[]): number {
  const q = w.sequential;
  const s0 = q[S] ?? 0;
  const p0 = v[SEQ_DERIVED] ?? 0;
  if (p0 <= 0) return 0;
  const up = v[SEQ_DERIVED + 1] ?? 0;
  const k = v[SEQ_DERIVED + 4] ?? 0;
  const n = w.bucketEvents(0);
  const x = w.bucketFailures(0);
  // Fast path: the partial bucket cannot lift S past the threshold.
  if (s0 + (x * up) / (1 + n * k) < SEQUENTIAL.threshold) return 0;
  const s = s0 + (x * up + (n - x) * (v[SEQ_DERIVED + 2] ?? 0)) / (1 + n * k);
  if (s < SEQUENTIAL.threshold) return 0;
  const rn = (q[RUN_N] ?? 0) + n;
  const rx = (q[RUN_X] ?? 0) + x;
  if (rn <= 0 || rx - rn * p0 < ADAPTIVE_PARAMS.evidence.minExcess) return 0;
  const lo = SEQUENTIAL.severity[0] ?? 0;
  const hi = SEQUENTIAL.severity[1] ?? 0;
  const t = (s - SEQUENTIAL.threshold) / SEQUENTIAL.span;
  const byEvidence = lo + (hi - lo) * (t > 1 ? 1 : t);
  // A run less than 8 points above the baseline is as likely a baseline lagging behind a fast
  // daily wave as a small shift: minutes of evidence of it are not worth a warning.
  const excess = rx / rn - p0;
  if (excess < SEQUENTIAL.minRunExcess) return 0;
  const byEffect = effectOf(excess, ADAPTIVE_PARAMS.failureEffect);
  return byEvidence < byEffect ? byEvidence : byEffect;
}
