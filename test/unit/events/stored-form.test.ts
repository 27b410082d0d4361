import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  eventFromSpans,
  isStoredForm,
  eventMembers,
  STORED_FORM_SPAN_SLOTS,
  storedFormSpans,
} from '../../../src/events/stored-form.js';
import { toPaymentEvent, type PaymentEvent } from '../../../src/events/payment-event.js';

describe('eventMembers', () => {
  const base = toPaymentEvent({
    event_id: 'evt_1',
    event_type: 'payment_failed',
    event_timestamp: '2026-11-24T09:59:58Z',
    processor: 'stripe',
    failure_category: 'gateway_timeout',
    geo_bucket: 'US',
    retry_count: 12,
  });
  const stored = JSON.stringify(base);
  /** The event `storedFormSpans` and `eventFromSpans` make of `text` (at an offset in the spans), or undefined. */
  const fromSpans = (text: string, parsed: Record<string, unknown> | PaymentEvent): PaymentEvent | undefined => {
    const spans = new Int32Array(3 + STORED_FORM_SPAN_SLOTS).fill(7);
    return storedFormSpans(text, parsed, spans, 3) ? eventFromSpans(text, spans, 3) : undefined;
  };

  /** Text that parses to the same event (or a different one) but is not byte for byte its stored form. */
  const variant = fc.oneof(
    // whitespace somewhere between tokens
    fc.nat({ max: stored.length }).map((i) => {
      const at = [...stored.matchAll(/[{},:]/g)].map((m) => m.index)[i % 20] ?? 0;
      return `${stored.slice(0, at + 1)} ${stored.slice(at + 1)}`;
    }),
    // a member repeated, with the same or another value, before its last occurrence
    fc
      .constantFrom(
        '"geo_bucket":"US",',
        '"geo_bucket":"EU",',
        '"retry_count":12,',
        '"retry_count":1,',
        '"failure_category":{"x":1},',
      )
      .map((m) => stored.replace('"geo_bucket"', `${m}"geo_bucket"`)),
    // the number written another way, as long as the stored one or shorter, with a line break to make up the length
    fc
      .constantFrom('1.2e1', '12.0', '012', '1.2E+1', '12e0', '1.2e+1')
      .map((n) => stored.replace('"retry_count":12', `"retry_count":${n}`)),
    fc
      .constantFrom('12e0', '1.2e1')
      .map((n) =>
        stored.replace('"retry_count":12', `"retry_count":${n}`).replace(',"retry_count"', ',\n"retry_count"'),
      ),
    // a key that is not ours, or keys out of order
    fc.constant(stored.replace('{', '{"extra":"x",')),
    fc.constant(
      stored
        .replace('"event_type":"payment_failed",', '')
        .replace('"processor"', '"event_type":"payment_failed","processor"'),
    ),
  );

  const parsedOrUndefined = (text: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };

  it('splices the stored form itself', () => {
    expect(eventMembers(stored, JSON.parse(stored) as Record<string, unknown>)).toBe(stored.slice(1, -1));
    expect(fromSpans(stored, JSON.parse(stored) as Record<string, unknown>)).toStrictEqual(base);
    // The event made of it will do: its absent fields are undefined, not in the stored form.
    expect(fromSpans(stored, base)).toStrictEqual(base);
    // An event that fills in what the text left out (retry_count 0) is not the text's.
    const noRetry = stored.replace(',"retry_count":12', '');
    expect(fromSpans(noRetry, toPaymentEvent(JSON.parse(noRetry) as Record<string, unknown>))).toBeUndefined();
    // Keys in another order, the text just as long: the walk follows the text's order.
    const reordered = stored.replace(
      '"event_id":"evt_1","event_type":"payment_failed"',
      '"event_type":"payment_failed","event_id":"evt_1"',
    );
    expect(reordered).toHaveLength(stored.length);
    expect(fromSpans(reordered, JSON.parse(reordered) as Record<string, unknown>)).toBeUndefined();
  });

  it('answers isStoredForm true exactly for text that is JSON.stringify of the event it parsed to, without escapes', () => {
    expect(isStoredForm(stored, JSON.parse(stored) as Record<string, unknown>)).toBe(true);
    fc.assert(
      fc.property(variant, (text) => {
        const parsed = parsedOrUndefined(text);
        if (parsed === undefined) return; // `012` is not JSON at all
        const exact = text === JSON.stringify(toPaymentEvent(parsed)) && !text.includes('\\');
        expect(isStoredForm(text, parsed), text).toBe(exact);
      }),
      { numRuns: 500 },
    );
    const escaped = JSON.stringify(toPaymentEvent({ ...base, geo_bucket: 'a "b"' }));
    expect(isStoredForm(escaped, JSON.parse(escaped) as Record<string, unknown>)).toBe(false);
  });

  it('never splices a number spelled shorter than JSON.stringify writes it, even when a line break makes up the length', () => {
    const hundred = JSON.stringify(toPaymentEvent({ ...base, retry_count: 100 }));
    const thousand = JSON.stringify({ ...JSON.parse(stored), retry_count: 1000 });
    for (const text of [
      hundred.replace('"retry_count":100', '"retry_count":1e2'),
      thousand.replace('"retry_count":1000', '"retry_count":1e3').replace(',"event_type"', ',\n"event_type"'),
    ]) {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      expect(eventMembers(text, parsed), text).toBeUndefined();
      expect(fromSpans(text, parsed), text).toBeUndefined();
    }
  });

  it('takes only the exact stored form as stored-form members: no spacing, no escapes', () => {
    const escaped = JSON.stringify(toPaymentEvent({ ...base, geo_bucket: 'a "b"' }));
    const spaced = stored.replace('"processor":', '"processor": ');
    for (const text of [escaped, spaced]) {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      expect(fromSpans(text, parsed), text).toBeUndefined();
      // eventMembers still splices both: the same JSON, one line.
      expect(eventMembers(text, parsed), text).toBe(text.slice(1, -1));
    }
  });

  it('never splices text whose members are not the event it parsed to, one line, each key once', () => {
    fc.assert(
      fc.property(variant, (text) => {
        const parsed = parsedOrUndefined(text);
        if (parsed === undefined) return; // `012` is not JSON at all
        const members = eventMembers(text, parsed);
        if (members === undefined) return;
        expect(members).not.toMatch(/[\n\r]/);
        expect(members).toMatch(new RegExp(`"retry_count":\\s*${String(parsed.retry_count)}\\s*(,|$)`));
        const spliced = JSON.parse(`{${members}}`) as Record<string, unknown>;
        expect(spliced).toEqual(JSON.parse(JSON.stringify(toPaymentEvent(parsed))));
        // JSON.parse keeps the last of a repeated key; the spliced text must not carry the others.
        expect(members.match(/"[a-z_]+":/g)?.length).toBe(Object.keys(spliced).length);
      }),
      { numRuns: 500 },
    );
  });

  it('finds every value of a stored form where it is: the event made of the spans is the one it parsed to', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const optional = fc.option(text, { nil: undefined });
    const event = fc.record({
      event_id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}$/),
      event_type: text,
      event_timestamp: fc.constant('2026-11-24T09:59:58.123Z'),
      processor: fc.constantFrom('stripe', 'adyen'),
      merchant_id_hash: optional,
      payment_intent_id_hash: optional,
      failure_category: optional,
      geo_bucket: optional,
      retry_count: fc.integer({ min: 0, max: 100 }),
      amount_bucket: optional,
      system_source: optional,
      payment_method_bucket: optional,
      channel: optional,
      retry_result: optional,
      failure_origin: optional,
    });
    fc.assert(
      fc.property(event, (e) => {
        const expected = toPaymentEvent(e);
        const json = JSON.stringify(expected);
        const parsed = JSON.parse(json) as Record<string, unknown>;
        // With an escape in it, the text's characters are not the values: never taken.
        expect(fromSpans(json, parsed)).toStrictEqual(json.includes('\\') ? undefined : expected);
      }),
      { numRuns: 2000 },
    );
  });
});
