/**
 * The warning as users see it: an incident plus the outcome someone observed.
 * Shared by the warning store, the pilot and Stripe routes and the outcome recorder.
 */
import { copyIncident, type Incident } from '../operators/track-incidents.js';

export const OUTCOME_TYPES = ['throttle', 'review', 'hold', 'auth_degradation', 'rate_limit', 'other', 'none'] as const;
export type OutcomeType = (typeof OUTCOME_TYPES)[number];

export const OUTCOME_SOURCES = ['manual', 'stripe_webhook', 'adyen_webhook', 'other_webhook', 'other'] as const;
export type OutcomeSource = (typeof OUTCOME_SOURCES)[number];

/** What was observed at the processor, as stored with the warning. */
export interface Outcome {
  readonly outcome_type: OutcomeType;
  /** When the processor acted (RFC 3339, as given). */
  readonly outcome_timestamp: string;
  readonly outcome_source: OutcomeSource;
  readonly outcome_notes: string | null;
}

/**
 * An incident plus its outcome fields. The type's member order does not matter; the JSON field
 * order is set by the literal in `toWarning`.
 */
export interface Warning extends Incident {
  /** True once an outcome other than `none` was recorded. */
  readonly outcome_observed: boolean;
  /** The outcome: the first one recorded (a person's annotation replaces it), so lead time is to the first action. */
  readonly outcome_type: OutcomeType | null;
  readonly outcome_timestamp: string | null;
  readonly outcome_source: OutcomeSource | null;
  readonly outcome_notes: string | null;
  /** Every outcome recorded on the warning, earliest observed first (a review, then a hold…). */
  readonly outcomes: readonly Outcome[];
}

/** At most this many outcomes are kept on one warning; later ones still answer, unstored. */
export const MAX_OUTCOMES = 100;

/** Outcomes in the order they were observed; recording order among equal times. */
function byObservedTime(list: readonly Outcome[]): Outcome[] {
  return list
    .map((o, at) => ({ o, at, t: Date.parse(o.outcome_timestamp) }))
    .sort((a, b) => a.t - b.t || a.at - b.at)
    .map(({ o }) => o);
}

/**
 * The wire shape, field order included: a literal, so every warning serialises the same way.
 * `list` is every outcome as recorded; a warning stored before lists existed has only `o`.
 */
export function toWarning(i: Incident, o: Outcome | undefined, list?: readonly Outcome[]): Warning {
  // The incident's fields up to risk_trajectory, then the outcome's, then the incident's state.
  const { status, opened_at, resolved_at, peak_score, peak_band, event_count, ...head } = copyIncident(i);
  return {
    ...head,
    merchant_id_hash: head.merchant_id_hash ?? null,
    outcome_observed: o !== undefined && o.outcome_type !== 'none',
    outcome_type: o?.outcome_type ?? null,
    outcome_timestamp: o?.outcome_timestamp ?? null,
    outcome_source: o?.outcome_source ?? null,
    outcome_notes: o?.outcome_notes ?? null,
    outcomes: byObservedTime(list ?? (o === undefined ? [] : [o])),
    status,
    opened_at,
    resolved_at: resolved_at ?? null,
    peak_score,
    peak_band,
    event_count,
  };
}

/** The incident part of a stored warning (for seeding `trackIncidents`). */
export function toIncident(w: Warning): Incident {
  return copyIncident(w);
}
