/**
 * The adaptive model's evidence arithmetic and its constants: how far outside the noise a count
 * lies for the volume at hand (a tempered binomial likelihood root), and the ramps that turn
 * evidence and effect size into a severity. Shared by the processor's signals
 * (adaptive-model.ts) and its segment cells (segment-severity.ts).
 */
import { clamp01 } from './risk-model.js';

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
  /**
   * Cold start (no bucket has left the window yet): the events of the whole window weighed
   * against the prior, with the evidence of at most this many events.
   */
  coldStart: { events: 150 },
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
export type Knots = readonly (readonly number[])[];

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
export function evidenceK(x: number, n: number, p0: number, k: number, from: number): number {
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

/** Evidence at the top of the evidence ramp (`from + span`): beyond it a severity is its effect's. */
export const EVIDENCE_TOP = P.evidence.from + P.evidence.span;

/**
 * `4n(x/n − p0)² ≥ EVIDENCE_SURE·φ` proves `evidenceK ≥ EVIDENCE_TOP` without a logarithm:
 * Pinsker's inequality, KL(r ‖ p0) ≥ 2(r − p0)², bounds the likelihood root from below by
 * 2|r − p0|·√(n/φ). The 1% margin is far beyond the rounding of either side. An outage's counts
 * are past it on every event, and its logarithms were a tenth of the risk stage's time there.
 */
export const EVIDENCE_SURE = 1.01 * EVIDENCE_TOP * EVIDENCE_TOP;

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
export function countSeverityOf(z: number, x: number, n: number, p0: number, knots: Knots): number {
  // `severityOf`'s own first test, made before the call: most looks end here, and a call that
  // is not inlined boxes its double arguments.
  if (z <= P.evidence.from || x - n * p0 < P.evidence.minExcess) return 0;
  return severityOf(z, x / n - p0, knots);
}
