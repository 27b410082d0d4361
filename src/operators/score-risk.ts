/**
 * `scoreRisk`: the risk stage of the pipeline.
 */
import { defer, map } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../pipeline/types.js';
import { RiskScorer, checkScorerOptions } from './risk/risk-scorer.js';
import type { RiskBatchReport, RiskScorerOptions } from './risk/risk-scorer.js';

export interface ScoreRiskOptions extends RiskScorerOptions {
  /** Called once per batch, after scoring, with the batch's counts, every processor's state and the batch. */
  readonly onScored?: (report: RiskBatchReport, batch: Batch) => void;
  /**
   * Called once per subscription with its live scorer, before the first batch, so that
   * `GET /v1/risk/processors` can read `scorer.snapshot()` between batches.
   */
  readonly onScorer?: (scorer: RiskScorer) => void;
}

/**
 * Fills `envelope.risk` on every envelope of every batch and re-emits the same batch.
 *
 * Emissions: one batch per input batch, same order, same object (envelopes are updated in
 * place). State: each subscription gets its own window store, created on subscribe, so two
 * pipelines (or a retry resubscribing) never share counts. Work is per batch: one pass over the
 * entries, then at most one `onScored` call. Errors from the source and from the callbacks end
 * the stream with that error; completion passes through.
 *
 * Options are validated when the operator is created (bad thresholds throw a RangeError there).
 */
export function scoreRisk(options: ScoreRiskOptions): OperatorFunction<Batch, Batch> {
  // Fail at construction, not on first data: an invalid option is a wiring bug.
  checkScorerOptions(options);
  const { onScored, onScorer } = options;
  return (source) =>
    defer(() => {
      const scorer = new RiskScorer(options);
      onScorer?.(scorer);
      return source.pipe(
        map((batch) => {
          scorer.scoreAll(batch.entries);
          if (onScored !== undefined) onScored(scorer.report(), batch);
          return batch;
        }),
      );
    });
}
