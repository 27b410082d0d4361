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
  /** Stream message id (`1700000000000-0`). */
  readonly id: string;
  /**
   * The id's two numbers (1700000000000 and 0), read once by decode so that the risk window's
   * redelivery ring stores numbers, not strings (operators/risk/recent-ids.ts). Leave them out, or
   * -1, and the window reads them from `id`.
   */
  readonly idMs?: number;
  readonly idSeq?: number;
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

/** An entry that goes to the dead-letter stream instead of the sinks. */
export interface DeadLetter {
  readonly id: string;
  /** The raw stored payload, verbatim (may be undefined when the entry had none). */
  readonly data: string | undefined;
  readonly reason: DeadLetterReason;
}
export const DEAD_LETTER_REASONS = ['decode_error', 'max_deliveries'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** One read's worth of work. `ackIds` are every id the batch must acknowledge once done. */
export interface Batch {
  readonly entries: readonly Envelope[];
  readonly dead: readonly DeadLetter[];
  readonly ackIds: readonly string[];
  /** Fed only to rebuild state (the risk window after a restart): never exported or acked. */
  readonly warmup?: true;
}
