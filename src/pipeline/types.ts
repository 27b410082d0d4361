/**
 * Types shared by every stage of the consumer pipeline. No behaviour here.
 *
 * One XREADGROUP result becomes one `Batch`: the unit of backpressure, ack, metrics and logs.
 * Stages fill the envelope's later fields in place (`risk`, `tier`); every envelope is created
 * with all fields present so that they all share one hidden class.
 */
import type { PaymentEvent } from '../events/payment-event.js';
import type { Band, RiskDriverOrStatus, Trajectory } from '../risk-terms.js';

/** What scoring says about the event's processor at the event's time. */
export interface RiskAssessment {
  /** 0..1, rounded to two decimals. */
  readonly score: number;
  /** Follows the rounded score. */
  readonly band: Band;
  readonly drivers: readonly RiskDriverOrStatus[];
  readonly trajectory: Trajectory;
  /** Current failure rate over the window baseline (1 when there is no baseline). */
  readonly trajectoryRatio: number;
  /**
   * The segment failures concentrate in, when a concentration driver is named: one field of
   * the event and its value, e.g. `{"geo_bucket":"BR"}`. Exported as `processor_risk_focus`.
   */
  readonly focus?: Readonly<Record<string, string>> | undefined;
}

/** Tier 2 interpretation; absent on tier 1. */
export interface TierContext {
  readonly playbookContext: string;
  /** Undefined when stable below 1.5×. */
  readonly riskTrajectory: string | undefined;
}

/** A decoded stream entry moving through the pipeline. */
export interface Envelope {
  /**
   * Stream message id: the entry id (`1700000000000-0`), followed by `/<index>` when the entry
   * carries several events (`1700000000000-0/3`, events/packed-entry.ts).
   */
  readonly id: string;
  /**
   * The id's numbers (1700000000000, 0 and 3; the index -1 when there is none), read once by
   * decode so that the risk window's redelivery ring stores numbers, not strings
   * (operators/risk/recent-ids.ts). Leave them out, or -1, and the window reads them from `id`.
   */
  readonly idMs?: number;
  readonly idSeq?: number;
  readonly idIndex?: number;
  readonly event: PaymentEvent;
  /**
   * The event's JSON members exactly as stored, when the export line may splice them in
   * verbatim (`eventMembers` in events/stored-form.ts); undefined means serialise `event` instead.
   */
  readonly eventJson: string | undefined;
  /** `event_timestamp` as epoch milliseconds. */
  readonly eventTimeMs: number;
  /** When ingest stored it (epoch ms), for the end-to-end latency histogram. */
  readonly ingestedAtMs: number;
  /** How many times the group has delivered this entry (1 on first read). */
  readonly deliveries: number;
  risk: RiskAssessment | undefined;
  tier: TierContext | undefined;
}

/**
 * An event that goes to the dead-letter stream instead of the sinks: one record per event, also
 * for the events of a packed entry (each its own `data`, `original_id` its address).
 */
export interface DeadLetter {
  /** The event's address (`stream_message_id`): its `original_id` in the dead-letter stream. */
  readonly id: string;
  /** The stream entry that carries it, acknowledged with the record. */
  readonly entryId: string;
  /** The event's stored text, verbatim (undefined when the entry had no payload). */
  readonly data: string | undefined;
  readonly reason: DeadLetterReason;
}
export const DEAD_LETTER_REASONS = ['decode_error', 'max_deliveries'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** One read's worth of work. `ackIds` are every entry id the batch must acknowledge once done. */
export interface Batch {
  readonly entries: readonly Envelope[];
  readonly dead: readonly DeadLetter[];
  readonly ackIds: readonly string[];
  /** Fed only to rebuild state (the risk window after a restart): never exported or acked. */
  readonly warmup?: true;
  /** The suspect entry this batch holds alone (pipeline/poison-policy.ts): its mark is cleared once it passed the stages. */
  readonly probation?: string;
  /** More batches of the same read follow: the next read waits for the last of them. */
  readonly moreInRead?: true;
}
