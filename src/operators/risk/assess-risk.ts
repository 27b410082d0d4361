/**
 * Turns one processor's window state into the `RiskAssessment` stamped on an envelope: the
 * model's score rounded to two decimals, the band of that rounded score, the drivers, and the
 * failure-rate trajectory.
 */
import type { Band, RiskDriverOrStatus, Trajectory } from '../../risk-terms.js';
import type { RiskAssessment } from '../../pipeline/types.js';
import type { WindowView } from './processor-window.js';
import { BUCKET_MS } from './risk-window.js';
import { DRIVER_LISTS, INSUFFICIENT, MIN_EVENTS, bandOf, clamp01 } from './risk-model.js';
import type { RiskModel, RiskThresholds } from './risk-model.js';
import type { RiskFocus } from './segment-cells.js';

/** Below this baseline failure rate a ratio is taken against 5%, and nothing "decelerates". */
export const TRAJECTORY_BASELINE_FLOOR = 0.05;

export const INSUFFICIENT_ASSESSMENT: RiskAssessment = Object.freeze({
  score: 0,
  band: 'low',
  drivers: INSUFFICIENT,
  trajectory: 'stable',
  trajectoryRatio: 1,
  focus: undefined,
});

/**
 * `n / 100` and `n / 10` read from tables: the same doubles as the division, without its latency
 * (two dependent divisions an event).
 */
const CENTS = Float64Array.from({ length: 101 }, (_, n) => n / 100);
const TENTHS = Float64Array.from({ length: 1024 }, (_, n) => n / 10);
const centsOf = (n: number): number => (n >= 0 && n <= 100 ? (CENTS[n] ?? n / 100) : n / 100);
const tenthsOf = (n: number): number => (n >= 0 && n < 1024 ? (TENTHS[n] ?? n / 10) : n / 10);

export function trajectoryOf(ratio: number, baseline: number): Trajectory {
  if (ratio >= 2) return 'accelerating';
  if (ratio <= 0.5 && baseline > TRAJECTORY_BASELINE_FLOOR) return 'decelerating';
  return 'stable';
}

/**
 * The assessment of `w` as it stands. `components` receives the model's components (zeros with
 * insufficient data). The previous assessment object is reused when every field is unchanged,
 * else the `cache` interns it, so steady traffic allocates nothing here.
 */
export function assessRisk(
  w: WindowView,
  model: RiskModel,
  thresholds: RiskThresholds,
  components: Float64Array,
  cache?: AssessmentCache,
): RiskAssessment {
  if (w.windowEvents < MIN_EVENTS) {
    components.fill(0);
    return INSUFFICIENT_ASSESSMENT;
  }
  const score = centsOf(Math.round(clamp01(model.evaluate(w, components)) * 100));
  const band = bandOf(score, thresholds);
  const mask = model.driverMask(components, score, thresholds[0]) & (DRIVER_LISTS.length - 1);
  const drivers = DRIVER_LISTS[mask] ?? INSUFFICIENT;
  const focusDrivers = model.focusDrivers;
  const focus =
    model.focusOf === undefined || (focusDrivers !== undefined && (mask & focusDrivers) === 0)
      ? undefined
      : model.focusOf(w, mask);
  // Trajectory: current failure rate over the window baseline. "Current" is the last
  // 10 s of event time: the watermark's bucket plus the share of the previous bucket those 10 s
  // still cover; a bare current bucket would judge the first handful of events after every
  // bucket boundary (one failure out of two reads as 50%). The baseline is every other bucket
  // of the window. One decimal, as the tier 2 sentence shows it.
  const curEvents = w.bucketEvents(0);
  const curFailures = w.bucketFailures(0);
  const otherEvents = w.windowEvents - curEvents;
  let trajectoryRatio = 1;
  let baseline = 0;
  if (otherEvents > 0 && curEvents > 0) {
    baseline = (w.windowFailures - curFailures) / otherEvents;
    const carry = 1 - clamp01((w.watermarkMs - w.wmBucket * BUCKET_MS) / BUCKET_MS);
    const current = (curFailures + carry * w.bucketFailures(1)) / (curEvents + carry * w.bucketEvents(1));
    trajectoryRatio = tenthsOf(Math.round((current / Math.max(baseline, TRAJECTORY_BASELINE_FLOOR)) * 10));
  }
  const trajectory = trajectoryOf(trajectoryRatio, baseline);
  const last = w.assessment;
  if (
    last !== undefined &&
    last.score === score &&
    last.band === band &&
    last.drivers === drivers &&
    last.trajectory === trajectory &&
    last.trajectoryRatio === trajectoryRatio &&
    last.focus === focus
  ) {
    return last;
  }
  return cache === undefined
    ? { score, band, drivers, trajectory, trajectoryRatio, focus }
    : cache.intern(score, band, drivers, mask, trajectory, trajectoryRatio, focus);
}

/**
 * Interns assessments: there are few distinct ones (score cents × drivers × trajectory), and
 * sharing them spares the garbage collector one object per event. Bounded: cleared when full.
 */
export class AssessmentCache {
  private readonly byKey = new Map<number, RiskAssessment>();
  /** Focused assessments, per focus object (one per segment cell, so few and short-lived). */
  private readonly byFocus = new WeakMap<RiskFocus, Map<number, RiskAssessment>>();

  constructor(readonly capacity = 4096) {}

  intern(
    score: number,
    band: Band,
    drivers: readonly RiskDriverOrStatus[],
    mask: number,
    trajectory: Trajectory,
    ratio: number,
    focus?: RiskFocus,
  ): RiskAssessment {
    const cents = Math.round(score * 100);
    const tenths = Math.round(ratio * 10);
    if (tenths > 255 || tenths < 0) return { score, band, drivers, trajectory, trajectoryRatio: ratio, focus };
    const t = trajectory === 'stable' ? 0 : trajectory === 'accelerating' ? 1 : 2;
    // Band follows the score for fixed thresholds, so it needs no place in the key.
    const key = ((cents * DRIVER_LISTS.length + mask) * 3 + t) * 256 + tenths;
    let map = this.byKey;
    if (focus !== undefined) {
      let forFocus = this.byFocus.get(focus);
      if (forFocus === undefined) {
        forFocus = new Map();
        this.byFocus.set(focus, forFocus);
      }
      map = forFocus;
    }
    let a = map.get(key);
    if (a === undefined) {
      if (map.size >= this.capacity) map.clear();
      a = { score, band, drivers, trajectory, trajectoryRatio: ratio, focus };
      map.set(key, a);
    }
    return a;
  }

  get size(): number {
    return this.byKey.size;
  }
}
