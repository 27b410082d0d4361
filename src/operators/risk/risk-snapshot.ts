/**
 * The per-processor view behind `GET /v1/risk/processors` and the risk metrics: score, band,
 * drivers, components, trajectory and counts, computed from a live window store.
 */
import { RISK_DRIVERS } from '../../risk-terms.js';
import type { Band, RiskDriver, RiskDriverOrStatus, Trajectory } from '../../risk-terms.js';
import { assessRisk } from './assess-risk.js';
import type { WindowView } from './processor-window.js';
import { DRIVER_COUNT } from './risk-model.js';
import type { RiskModel, RiskThresholds } from './risk-model.js';
import type { RiskModelName } from '../../risk-terms.js';
import type { RiskWindow } from './risk-window.js';

export type BandCounts = Readonly<Record<Band, number>>;

export interface ProcessorRiskSnapshot {
  readonly processor: string;
  readonly model: RiskModelName;
  readonly score: number;
  readonly band: Band;
  readonly drivers: readonly RiskDriverOrStatus[];
  /**
   * One value per driver, 0..1, rounded to 3 decimals. Classic: the six inputs of its formula
   * (failure rate, retry pressure, timeout mix, spike, auth mix, geo spread), 0 for the segment
   * drivers. Adaptive: each signal's severity.
   */
  readonly components: Readonly<Record<RiskDriver, number>>;
  readonly trajectory: Trajectory;
  readonly trajectoryRatio: number;
  /** The segment failures concentrate in (`processor_risk_focus`), or null. */
  readonly focus: Readonly<Record<string, string>> | null;
  /** Newest event time seen for the processor (epoch ms): the clock its window runs on. */
  readonly watermarkMs: number;
  /** What the window holds now. */
  readonly window: {
    readonly events: number;
    readonly failures: number;
    readonly timeouts: number;
    readonly authFailures: number;
    readonly retrySum: number;
    readonly distinctGeos: number;
    readonly recentEvents: number;
  };
  /** Since the window store was created. */
  readonly totals: {
    readonly counted: number;
    readonly tooLate: number;
    readonly duplicates: number;
    readonly scoredByBand: BandCounts;
  };
}

function bandCounts(c: Float64Array): BandCounts {
  return { low: c[0] ?? 0, elevated: c[1] ?? 0, high: c[2] ?? 0, critical: c[3] ?? 0 };
}

/** The snapshot of one processor's window. */
export function snapshotProcessor(w: WindowView, model: RiskModel, thresholds: RiskThresholds): ProcessorRiskSnapshot {
  const c = new Float64Array(DRIVER_COUNT);
  const a = assessRisk(w, model, thresholds, c);
  const components = {} as Record<RiskDriver, number>;
  RISK_DRIVERS.forEach((d, i) => (components[d] = Math.round((c[i] ?? 0) * 1000) / 1000));
  return {
    processor: w.processor,
    model: model.name,
    score: a.score,
    band: a.band,
    drivers: a.drivers,
    components,
    trajectory: a.trajectory,
    trajectoryRatio: a.trajectoryRatio,
    focus: a.focus ?? null,
    watermarkMs: w.watermarkMs,
    window: {
      events: w.windowEvents,
      failures: w.windowFailures,
      timeouts: w.windowTimeouts,
      authFailures: w.windowAuthFailures,
      retrySum: w.windowRetrySum,
      distinctGeos: w.windowGeos,
      recentEvents: w.recentEvents,
    },
    totals: {
      counted: w.counted,
      tooLate: w.tooLate,
      duplicates: w.duplicates,
      scoredByBand: bandCounts(w.scoredByBand),
    },
  };
}

/** Snapshots of every processor in `window`, sorted by name. O(processors); call per batch or per request. */
export function snapshotRisk(
  window: RiskWindow,
  model: RiskModel,
  thresholds: RiskThresholds,
): ProcessorRiskSnapshot[] {
  const out: ProcessorRiskSnapshot[] = [];
  for (const p of window.processors()) out.push(snapshotProcessor(p, model, thresholds));
  return out.sort((a, b) => (a.processor < b.processor ? -1 : a.processor > b.processor ? 1 : 0));
}
