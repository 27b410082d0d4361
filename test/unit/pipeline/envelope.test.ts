import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../../src/operators/decode-entries.js';
import { envelope } from '../../../src/pipeline/envelope.js';
import { toPaymentEvent } from '../../../src/events/payment-event.js';

const body = {
  event_id: 'evt_1',
  event_timestamp: '2026-03-01T00:00:01.500Z',
  event_type: 'payment_failed',
  processor: 'stripe',
  retry_count: 2,
};

describe('envelope', () => {
  it('fills every field from the id and the event', () => {
    const e = envelope('1700000000000-7', toPaymentEvent(body), { ingestedAtMs: 5, deliveries: 2 });
    expect(e).toEqual({
      id: '1700000000000-7',
      idMs: 1700000000000,
      idSeq: 7,
      idIndex: -1,
      event: toPaymentEvent(body),
      eventJson: undefined,
      eventTimeMs: Date.parse(body.event_timestamp),
      ingestedAtMs: 5,
      deliveries: 2,
      risk: undefined,
      tier: undefined,
    });
  });

  it('defaults to a first delivery of unknown store time, and marks ids of other shapes', () => {
    const e = envelope('line-42', toPaymentEvent(body));
    expect(e).toMatchObject({ idMs: -1, idSeq: -1, ingestedAtMs: 0, deliveries: 1 });
  });

  it('reads the index of an event of a packed entry', () => {
    expect(envelope('1700000000000-7/12', toPaymentEvent(body))).toMatchObject({
      idMs: 1700000000000,
      idSeq: 7,
      idIndex: 12,
    });
  });

  it('lists its fields in the order decodeEntries writes them (one hidden class for both)', () => {
    const decoded = decodeEnvelope({ id: '1-0', payload: JSON.stringify(body), ingestedAtMs: 1, deliveries: 1 });
    expect(Object.keys(envelope('1-0', toPaymentEvent(body)))).toEqual(Object.keys(decoded!));
  });
});
