/**
 * The processing stages between decode and the sinks, composed once for every way PayFlux runs
 * (live, backtest, a user's pipeline): score risk in event time, add tier 2 context, and turn
 * risk into incident transitions when pilot warnings are on.
 *
 *   Batch ─▶ scoreRisk ─▶ enrichTier ─▶ trackIncidents? ─▶ { batch, transitions }
 */
import { map, type OperatorFunction } from 'rxjs';
import type { Config } from '../config.js';
import { enrichTier } from '../operators/enrich-tier.js';
import type { RiskBatchReport, RiskScorer } from '../operators/risk/risk-scorer.js';
import { scoreRisk } from '../operators/score-risk.js';
import { trackIncidents, type Incident, type IncidentBatch, type IncidentBook } from '../operators/track-incidents.js';
import type { Batch } from './types.js';

export interface RiskStagesOptions {
  readonly risk: Config['risk'];
  /** Track incidents (pilot mode with warnings on). */
  readonly incidents?: { readonly cooldownSec: number; readonly seed?: readonly Incident[] };
  readonly now?: () => number;
  readonly onScored?: (report: RiskBatchReport, batch: Batch) => void;
  readonly onScorer?: (scorer: RiskScorer) => void;
  /** Each subscription's incident state (pilot warnings on), for checkpoints. */
  readonly onBook?: (book: IncidentBook) => void;
  /** The cluster's event-time watermark, for processors with nothing in a batch (`trackIncidents`' `clock`). */
  readonly clock?: () => number;
}

export function riskStages(o: RiskStagesOptions): OperatorFunction<Batch, IncidentBatch> {
  const now = o.now ?? Date.now;
  const scored: OperatorFunction<Batch, Batch> = (batch$) =>
    batch$.pipe(
      scoreRisk({
        model: o.risk.model,
        thresholds: o.risk.thresholds,
        windowSec: o.risk.windowSec,
        allowedLatenessSec: o.risk.allowedLatenessSec,
        onScored: o.onScored,
        onScorer: o.onScorer,
      }),
      enrichTier({ tier: o.risk.tier, windowSec: o.risk.windowSec }),
    );
  if (o.incidents === undefined)
    return (batch$) =>
      batch$.pipe(
        scored,
        map((batch) => ({ batch, transitions: [] })),
      );
  const { cooldownSec, seed } = o.incidents;
  return (batch$) => batch$.pipe(scored, trackIncidents({ cooldownSec, now, seed, onBook: o.onBook, clock: o.clock }));
}
