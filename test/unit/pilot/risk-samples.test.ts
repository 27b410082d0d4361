import { describe, expect, it } from 'vitest';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import type { Batch, Envelope, RiskAssessment } from '../../../src/pipeline/types.js';
import { focusOf, riskSamples } from '../../../src/pilot/risk-samples.js';

let seq = 0;
function env(processor: string, atMs: number, risk: RiskAssessment | undefined, failed: boolean): Envelope {
  seq++;
  return {
    id: `${atMs}-${seq}`,
    event: toPaymentEvent({
      event_id: `evt_${seq}`,
      event_timestamp: new Date(atMs).toISOString(),
      event_type: failed ? 'payment_failed' : 'payment_succeeded',
      processor,
      merchant_id_hash: 'm',
    }),
    eventJson: undefined,
    eventTimeMs: atMs,
    ingestedAtMs: atMs,
    deliveries: 1,
    risk,
    tier: undefined,
  };
}

const risk = (score: number, band: RiskAssessment['band'], extra: object = {}): RiskAssessment => ({
  score,
  band,
  drivers: ['high_failure_rate'],
  trajectory: 'accelerating',
  trajectoryRatio: 2.5,
  ...extra,
});

describe('riskSamples', () => {
  it('summarises each processor of a batch per 10 s slot: counts, the highest score, the last state', () => {
    const batch: Batch = {
      entries: [
        env('stripe', 1000, risk(0.4, 'elevated'), true),
        env('stripe', 13_000, risk(0.2, 'low'), true),
        env('adyen', 1500, risk(0.05, 'low'), false),
        env('stripe', 3000, risk(0.71, 'high'), true),
        env('stripe', 2000, risk(0.5, 'elevated', { focus: { geo_bucket: 'BR' } }), false),
        env('stripe', 2500, undefined, true),
      ],
      dead: [],
      ackIds: [],
    };
    const slot = { drivers: ['high_failure_rate'], trajectory: 'accelerating', trajectoryRatio: 2.5 };
    expect(riskSamples(batch)).toEqual([
      {
        processor: 'stripe',
        atMs: 13_000,
        slots: [
          {
            atMs: 1000,
            events: 3,
            failures: 2,
            maxScore: 0.71,
            maxBand: 'high',
            score: 0.5,
            band: 'elevated',
            ...slot,
          },
          { atMs: 13_000, events: 1, failures: 1, maxScore: 0.2, maxBand: 'low', score: 0.2, band: 'low', ...slot },
        ],
        score: 0.5,
        band: 'elevated',
        drivers: ['high_failure_rate'],
        trajectory: 'accelerating',
        trajectoryRatio: 2.5,
        focus: { geo_bucket: 'BR' },
      },
      expect.objectContaining({
        processor: 'adyen',
        slots: [expect.objectContaining({ events: 1, failures: 0, maxScore: 0.05 })],
        focus: null,
      }),
    ]);
    expect(riskSamples({ entries: [], dead: [], ackIds: [] })).toEqual([]);
  });

  it('shows a focus only when it is a flat record of values', () => {
    expect(focusOf(risk(0.5, 'elevated', { focus: { geo_bucket: 'BR', merchant: 7 } }))).toEqual({
      geo_bucket: 'BR',
      merchant: '7',
    });
    expect(focusOf(risk(0.5, 'elevated', { focus: { nested: {} } }))).toBeNull();
    expect(focusOf(risk(0.5, 'elevated', { focus: 'BR' }))).toBeNull();
    expect(focusOf(risk(0.5, 'elevated'))).toBeNull();
  });
});
