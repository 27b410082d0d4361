/** Shared fixtures for the pilot integration tests: incidents, transitions, scored envelopes. */
import type { Incident, IncidentTransition, IncidentTransitionKind } from '../../../src/operators/track-incidents.js';
import type { Band } from '../../../src/risk-terms.js';
import type { Batch, Envelope } from '../../../src/pipeline/types.js';
import { toPaymentEvent } from '../../../src/events/payment-event.js';

export function incident(overrides: Partial<Incident> & { warning_id: string }): Incident {
  return {
    event_id: overrides.warning_id.split(':')[1] ?? 'evt_1',
    processor: 'stripe',
    merchant_id_hash: 'mhash',
    processed_at: '2024-05-01T09:14:00.000Z',
    event_timestamp: '2024-05-01T09:13:58Z',
    processor_risk_score: 0.42,
    processor_risk_band: 'elevated',
    processor_risk_drivers: ['high_failure_rate', 'retry_pressure_spike'],
    processor_playbook_context: 'This pattern typically correlates with processor-side monitoring escalation.',
    risk_trajectory: 'Pattern accelerating: ~3.2× above baseline over the last 5 minutes.',
    status: 'open',
    opened_at: '2024-05-01T09:13:58.000Z',
    resolved_at: null,
    peak_score: 0.42,
    peak_band: 'elevated',
    event_count: 1,
    ...overrides,
  };
}

export function transition(kind: IncidentTransitionKind, i: Incident): IncidentTransition {
  return { kind, incident: i };
}

let seq = 0;
export function scored(processor: string, atMs: number, score: number, band: Band): Envelope {
  seq += 1;
  return {
    id: `${atMs}-${seq}`,
    event: toPaymentEvent({
      event_id: `evt_fx_${seq}`,
      event_timestamp: new Date(atMs).toISOString(),
      event_type: 'payment_failed',
      processor,
      merchant_id_hash: 'mhash',
      failure_category: 'card_declined',
    }),
    eventJson: undefined,
    eventTimeMs: atMs,
    ingestedAtMs: atMs,
    deliveries: 1,
    risk: { score, band, drivers: ['high_failure_rate'], trajectory: 'stable', trajectoryRatio: 1 },
    tier: undefined,
  };
}

export const batchOf = (...entries: Envelope[]): Batch => ({ entries, dead: [], ackIds: entries.map((e) => e.id) });
