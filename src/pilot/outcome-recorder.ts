/**
 * The one code path for every outcome annotation, typed by a person or derived from a processor
 * webhook: store it on the warning, write the `pilot_outcome_annotation` proof line, observe the
 * lead time. Lead time = outcome `observed_at` − the warning's `processed_at` (when PayFlux raised
 * it: "we warned at 09:14, Stripe throttled at 09:31" → 1020 s).
 */
import { Histogram, type Registry } from 'prom-client';
import type { Outcome, OutcomeSource, OutcomeType, Warning } from './warning.js';
import type { RecordOutcomeOptions, WarningStore } from './warning-store.js';

/** An outcome as submitted (API body or mapped webhook). */
export interface OutcomeInput {
  readonly outcome_type: OutcomeType;
  /** RFC 3339, already validated. */
  readonly observed_at: string;
  readonly source: OutcomeSource;
  readonly notes: string | null;
}

/** The proof line in the export, one per annotation (duplicates of an idempotency key excepted). */
export interface OutcomeAnnotationLine {
  readonly type: 'pilot_outcome_annotation';
  readonly annotated_at: string;
  readonly warning_id: string;
  readonly processor: string;
  readonly merchant_id_hash: string | null;
  readonly warning_event_id: string;
  readonly warning_processed_at: string;
  readonly warning_opened_at: string;
  readonly peak_band: Warning['peak_band'];
  readonly peak_score: number;
  readonly outcome_type: OutcomeType;
  readonly outcome_timestamp: string;
  readonly outcome_source: OutcomeSource;
  readonly outcome_notes: string | null;
  /** False when the warning kept an earlier outcome (automatic annotations never overwrite). */
  readonly stored: boolean;
  /** Null for `none` (nothing happened, so there is no lead); negative if observed before the warning. */
  readonly lead_time_seconds: number | null;
}

export type RecordResult =
  | { readonly status: 'unknown' }
  | {
      readonly status: 'stored' | 'kept' | 'duplicate';
      readonly warning: Warning;
      readonly leadTimeSeconds: number | null;
    };

export interface OutcomeRecorder {
  record(warningId: string, input: OutcomeInput, options?: RecordOutcomeOptions): Promise<RecordResult>;
}

export interface OutcomeRecorderOptions {
  readonly store: WarningStore;
  /** Writes one JSON line to every export destination (the exporter's, so lines never interleave). */
  readonly writeLine: (line: OutcomeAnnotationLine) => void;
  readonly registry: Registry;
  /** Wall clock for `annotated_at`, epoch ms. */
  readonly now?: () => number;
}

/** Minutes to a week: processors escalate within minutes to days of the pattern. */
const LEAD_TIME_BUCKETS = [30, 60, 300, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400, 259_200, 604_800];

export function leadTimeSeconds(
  w: Pick<Warning, 'processed_at'>,
  input: Pick<OutcomeInput, 'outcome_type' | 'observed_at'>,
): number | null {
  if (input.outcome_type === 'none') return null;
  const ms = Date.parse(input.observed_at) - Date.parse(w.processed_at);
  return Number.isFinite(ms) ? Math.round(ms) / 1000 : null;
}

export function createOutcomeRecorder(options: OutcomeRecorderOptions): OutcomeRecorder {
  const { store, writeLine } = options;
  const now = options.now ?? Date.now;
  const histogram = new Histogram({
    name: 'payflux_warning_outcome_lead_time_seconds',
    help: 'Seconds from a warning being raised to the processor outcome observed for it',
    labelNames: ['source'] as const,
    buckets: LEAD_TIME_BUCKETS,
    registers: [options.registry],
  });

  return {
    async record(warningId, input, opts) {
      const outcome: Outcome = {
        outcome_type: input.outcome_type,
        outcome_timestamp: input.observed_at,
        outcome_source: input.source,
        outcome_notes: input.notes,
      };
      const r = await store.recordOutcome(warningId, outcome, opts);
      if (r.status === 'unknown') return r;
      const w = r.warning;
      const lead = leadTimeSeconds(w, input);
      if (r.status === 'duplicate') return { status: r.status, warning: w, leadTimeSeconds: lead };
      writeLine({
        type: 'pilot_outcome_annotation',
        annotated_at: new Date(now()).toISOString(),
        warning_id: w.warning_id,
        processor: w.processor,
        merchant_id_hash: w.merchant_id_hash,
        warning_event_id: w.event_id,
        warning_processed_at: w.processed_at,
        warning_opened_at: w.opened_at,
        peak_band: w.peak_band,
        peak_score: w.peak_score,
        outcome_type: input.outcome_type,
        outcome_timestamp: input.observed_at,
        outcome_source: input.source,
        outcome_notes: input.notes,
        stored: r.status === 'stored',
        lead_time_seconds: lead,
      });
      // Negative lead times are a warning raised after the fact: in the proof line, not the histogram.
      if (r.status === 'stored' && lead !== null && lead >= 0) histogram.observe({ source: input.source }, lead);
      return { status: r.status, warning: w, leadTimeSeconds: lead };
    },
  };
}
