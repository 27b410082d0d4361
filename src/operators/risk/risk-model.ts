/**
 * The contract both risk models implement, and the pieces they share: bands from the
 * rounded score, drivers in contractual order, the precomputed driver lists.
 */
import { RISK_DRIVERS } from '../../risk-terms.js';
import type { Band, RiskDriverOrStatus, RiskModelName } from '../../risk-terms.js';
import type { WindowView } from './processor-window.js';
import type { RiskFocus } from './segment-cells.js';

/** [elevated, high, critical] lower bounds, ascending, in (0, 1]. */
export type RiskThresholds = readonly [number, number, number];

export interface RiskModel {
  readonly name: RiskModelName;
  /** True when the model reads the window's segment cells (they are kept only then). */
  readonly segments?: boolean;
  /**
   * Writes one component per driver (RISK_DRIVERS order) into `components` and returns the
   * unrounded score in [0, 1]. Called with at least 5 events in the window.
   */
  evaluate(w: WindowView, components: Float64Array): number;
  /**
   * The drivers as a bit mask (bit i = RISK_DRIVERS[i]) for the components just evaluated.
   * `score` is the rounded score, `elevated` the elevated threshold.
   */
  driverMask(components: Float64Array, score: number, elevated: number): number;
  /** The segment the drivers in `mask` point at, when they name one (`processor_risk_focus`). */
  focusOf?(w: WindowView, mask: number): RiskFocus | undefined;
  /**
   * The driver bits that can name a segment: `focusOf` is asked only when the mask holds one
   * (a call per event spared otherwise). Absent: `focusOf` is asked for every assessment.
   */
  readonly focusDrivers?: number;
}

/** Number of drivers, the length of a components array. */
export const DRIVER_COUNT = RISK_DRIVERS.length;

/** Minimum events in the window before anything but `insufficient_data` is said. */
export const MIN_EVENTS = 5;

export const NOMINAL: readonly RiskDriverOrStatus[] = Object.freeze(['nominal_behavior'] as const);
export const INSUFFICIENT: readonly RiskDriverOrStatus[] = Object.freeze(['insufficient_data'] as const);

/**
 * Every driver list a mask can name, built once, each list frozen: assessments share them, so
 * the hot path allocates no arrays and `enrichTier` can key its text cache on them. The outer
 * array is read-only by type, not frozen: V8 reads a frozen array's elements through a generic
 * inline cache (~3 ns a read, measured on Node 24), once per event here.
 */
export const DRIVER_LISTS: readonly (readonly RiskDriverOrStatus[])[] = Array.from(
  { length: 1 << DRIVER_COUNT },
  (_, mask) => (mask === 0 ? NOMINAL : Object.freeze(RISK_DRIVERS.filter((_d, i) => (mask & (1 << i)) !== 0))),
);

export function clamp01(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

/** The band of a (rounded) score. */
export function bandOf(score: number, t: RiskThresholds): Band {
  return score >= t[2] ? 'critical' : score >= t[1] ? 'high' : score >= t[0] ? 'elevated' : 'low';
}

export function assertThresholds(t: readonly number[]): asserts t is RiskThresholds {
  const [a, b, c] = t;
  if (t.length !== 3 || a === undefined || b === undefined || c === undefined || !(a > 0 && a < b && b < c && c <= 1)) {
    throw new RangeError(`risk thresholds must be three ascending numbers in (0, 1] (got ${t.join(',')})`);
  }
}
