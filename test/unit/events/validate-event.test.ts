import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paymentEventSchema } from '../../../src/events/payment-event.js';
import { createEventValidator } from '../../../src/events/validate-event.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const validate = createEventValidator({
  processors: ['stripe', 'adyen', 'checkout', 'internal'],
  maxClockSkewSec: 300,
});
const base = {
  event_id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
  event_timestamp: '2026-06-01T11:59:00Z',
  event_type: 'payment_failed',
  processor: 'stripe',
};

const failure = (body: unknown) => {
  const v = validate(body, NOW);
  if (v.ok) throw new Error('expected a validation failure');
  return v.error.toBody().error;
};

describe('event validation', () => {
  it('accepts the minimal event and fills retry_count with 0', () => {
    const v = validate(base, NOW);
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.event.retry_count).toBe(0);
      expect(v.eventTimeMs).toBe(Date.parse(base.event_timestamp));
    }
  });

  it('drops unknown fields', () => {
    const v = validate({ ...base, card_number: '4242', nested: { a: 1 } }, NOW);
    expect(v.ok && JSON.stringify(v.event)).not.toContain('4242');
  });

  it.each(['event_id', 'event_timestamp', 'event_type', 'processor'])('requires %s', (field) => {
    const body: Record<string, unknown> = { ...base };
    delete body[field];
    expect(failure(body)).toEqual({ code: 'PF_ERR_VALIDATION', message: `${field} is required`, field });
  });

  it.each([
    ['a UUID in upper case', '3F2504E0-4F89-11D3-9A0C-0305E82C3301'],
    ["Stripe's evt_ ids", 'evt_3MtwBwLkdIwHu7ix28a3tqPa'],
    ['idempotency keys with . : -', 'order-42.retry:1'],
    ['a 128-char key', 'a'.repeat(128)],
  ])('accepts event_id as %s', (_name, id) => expect(validate({ ...base, event_id: id }, NOW).ok).toBe(true));

  it.each([['-leading-dash'], ['has space'], ['a'.repeat(129)], [''], ['semi;colon']])(
    'rejects event_id %j naming the rule',
    (id) => {
      expect(failure({ ...base, event_id: id })).toMatchObject({
        field: 'event_id',
        message: expect.stringContaining('idempotency key'),
      });
    },
  );

  it.each([['2026-06-01T11:59:00+02:00'], ['2026-06-01T11:59:00.123456Z'], ['2026-06-01 11:59:00z']])(
    'accepts RFC 3339 %s',
    (ts) => {
      expect(validate({ ...base, event_timestamp: ts }, NOW).ok).toBe(true);
    },
  );

  it.each([
    ['2026-04-31T12:00:00Z'],
    ['2026-05-31T24:00:00Z'],
    ['2026-06-01T11:59:00+24:00'],
    ['2026-06-01T11:59:00+02:60'],
    ['2026-05-32T00:00:00Z'],
  ])('rejects %j, a date or time that does not exist (Date.parse would roll it over)', (ts) => {
    expect(failure({ ...base, event_timestamp: ts })).toMatchObject({
      field: 'event_timestamp',
      message: expect.stringContaining('exist'),
    });
  });

  it.each([['2026-06-01T11:59:00'], ['2026-06-01'], ['yesterday'], ['1717243140'], ['2026-13-45T99:00:00Z']])(
    'rejects timestamp %j without a zone or not a date',
    (ts) => {
      expect(failure({ ...base, event_timestamp: ts })).toMatchObject({
        field: 'event_timestamp',
        message: expect.stringContaining('RFC 3339'),
      });
    },
  );

  it('rejects timestamps more than the allowed skew in the future', () => {
    expect(validate({ ...base, event_timestamp: '2026-06-01T12:04:59Z' }, NOW).ok).toBe(true);
    expect(failure({ ...base, event_timestamp: '2026-06-01T12:05:01Z' })).toMatchObject({
      field: 'event_timestamp',
      message: expect.stringContaining('future'),
    });
  });

  it('accepts any real past time, however old', () => {
    for (const t of ['2026-05-20T12:00:00Z', '2026-01-09T12:00:00Z', '2019-03-01T00:00:00+02:00'])
      expect(validate({ ...base, event_timestamp: t }, NOW).ok).toBe(true);
  });

  it('rejects blank and over-long event types', () => {
    expect(failure({ ...base, event_type: '   ' }).field).toBe('event_type');
    expect(failure({ ...base, event_type: 'x'.repeat(65) }).field).toBe('event_type');
    expect(validate({ ...base, event_type: 'refund_created' }, NOW).ok).toBe(true);
  });

  it('names the allowed processors, case-sensitively', () => {
    expect(failure({ ...base, processor: 'Stripe' })).toEqual({
      code: 'PF_ERR_VALIDATION',
      field: 'processor',
      message: 'processor must be one of stripe, adyen, checkout, internal',
    });
  });

  it.each([[-1], [101], [1.5], ['3']])('rejects retry_count %j', (n) => {
    expect(failure({ ...base, retry_count: n })).toMatchObject({
      field: 'retry_count',
      message: 'retry_count must be an integer from 0 to 100',
    });
  });

  it('limits optional strings: 100 chars, geo_bucket 20', () => {
    expect(validate({ ...base, merchant_id_hash: 'm'.repeat(100) }, NOW).ok).toBe(true);
    expect(failure({ ...base, merchant_id_hash: 'm'.repeat(101) })).toMatchObject({
      field: 'merchant_id_hash',
      message: 'merchant_id_hash must be a string of at most 100 characters',
    });
    expect(failure({ ...base, geo_bucket: 'g'.repeat(21) })).toMatchObject({
      field: 'geo_bucket',
      message: 'geo_bucket must be a string of at most 20 characters',
    });
    expect(failure({ ...base, failure_category: 42 })).toMatchObject({
      field: 'failure_category',
      message: 'failure_category must be a string',
    });
  });

  it('counts characters, not UTF-16 units: 64 emoji are a valid event_type, 65 are not', () => {
    expect(validate({ ...base, event_type: '🚀'.repeat(64) }, NOW).ok).toBe(true);
    expect(validate({ ...base, event_type: '🚀'.repeat(64), geo_bucket: 'é🚀'.repeat(10) }, NOW).ok).toBe(true);
    expect(failure({ ...base, event_type: '🚀'.repeat(65) }).field).toBe('event_type');
    // Over the limit only in UTF-16 units, then a real error further on: that error is the one named.
    expect(failure({ ...base, event_type: '🚀'.repeat(64), geo_bucket: 'g'.repeat(21) })).toMatchObject({
      field: 'geo_bucket',
      message: 'geo_bucket must be a string of at most 20 characters',
    });
  });

  it('accepts and refuses exactly what the schema does, whatever the characters', () => {
    const exact = new Ajv({ strict: true }).compile(paymentEventSchema(['stripe', 'adyen', 'checkout', 'internal']));
    const text = (max: number) => fc.string({ unit: fc.constantFrom('a', ' ', 'é', '🚀', '\ud800'), maxLength: max });
    const body = fc.record(
      {
        event_id: fc.constantFrom(base.event_id, 'bad id'),
        event_timestamp: fc.constant(base.event_timestamp),
        event_type: text(70),
        processor: fc.constant('stripe'),
        geo_bucket: text(24),
        channel: text(104),
      },
      { requiredKeys: ['event_id', 'event_timestamp', 'processor'] },
    );
    fc.assert(
      fc.property(body, (b) => {
        expect(validate(b, NOW).ok).toBe(exact(b));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([[null], [[]], ['string'], [42]])('rejects a body that is not an object: %j', (body) => {
    expect(failure(body)).toEqual({ code: 'PF_ERR_VALIDATION', message: 'the event must be a JSON object' });
  });
});
