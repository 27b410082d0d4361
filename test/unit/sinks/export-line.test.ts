import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toPaymentEvent, type PaymentEvent } from '../../../src/events/payment-event.js';
import { decodeEnvelope } from '../../../src/operators/decode-entries.js';
import type { Envelope, RiskAssessment, TierContext } from '../../../src/pipeline/types.js';
import { createLineEncoder, createLineSerializer } from '../../../src/sinks/export-line.js';

const PROCESSED_AT = '2026-11-24T10:00:00.000Z';

/** The envelope the consumer builds from a stored payload (spliced when the payload allows). */
function decoded(payload: string, id = '1732442400000-0'): Envelope {
  const env = decodeEnvelope({ id, payload, ingestedAtMs: 0, deliveries: 1 });
  if (env === undefined) throw new Error(`not decodable: ${payload}`);
  return env;
}

/** The same envelope forced through the schema serializer. */
const serialised = (env: Envelope): Envelope => ({ ...env, eventJson: undefined });

const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });
// Quotes, backslashes, control characters, non-ASCII and astral characters: everything escaping touches.
const text = fc.string({ unit: 'binary', maxLength: 30 });

const eventArb: fc.Arbitrary<PaymentEvent> = fc
  .record({
    event_id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}$/),
    event_type: fc.constantFrom('payment_failed', 'payment_succeeded', 'refund "quoted"'),
    event_timestamp: fc.constantFrom('2026-11-24T09:59:58.123Z', '2026-11-24T10:59:58+01:00'),
    processor: fc.constantFrom('stripe', 'adyen'),
    merchant_id_hash: optional(text),
    payment_intent_id_hash: optional(text),
    failure_category: optional(text),
    geo_bucket: optional(text),
    retry_count: fc.integer({ min: 0, max: 100 }),
    amount_bucket: optional(text),
    system_source: optional(text),
    payment_method_bucket: optional(text),
    channel: optional(text),
    retry_result: optional(text),
    failure_origin: optional(text),
  })
  .map((r) => toPaymentEvent(r));

const riskArb: fc.Arbitrary<RiskAssessment | undefined> = fc.option(
  fc.record({
    score: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
    band: fc.constantFrom('low', 'elevated', 'high', 'critical'),
    drivers: fc.constantFrom(['nominal_behavior'], ['insufficient_data'], ['high_failure_rate', 'timeout_clustering']),
    trajectory: fc.constantFrom('accelerating', 'stable', 'decelerating'),
    trajectoryRatio: fc.constant(1),
  }),
  { nil: undefined },
);

const tierArb: fc.Arbitrary<TierContext | undefined> = fc.option(
  fc.record({
    playbookContext: fc.constantFrom('', 'This pattern "typically" correlates.'),
    riskTrajectory: fc.option(fc.constant('Pattern accelerating: ~3.2× above baseline.'), { nil: undefined }),
  }),
  { nil: undefined },
);

describe('createLineSerializer', () => {
  it('writes the same bytes for a stored event whether it splices the stored JSON or serialises the record', () => {
    fc.assert(
      fc.property(eventArb, riskArb, tierArb, (event, risk, tier) => {
        const env = decoded(JSON.stringify(event));
        expect(env.eventJson).toBeDefined();
        env.risk = risk;
        env.tier = tier;
        const serialize = createLineSerializer('consumer "a"');
        expect(serialize([env], PROCESSED_AT)).toBe(serialize([serialised(env)], PROCESSED_AT));
      }),
      { numRuns: 300 },
    );
  });

  it('writes the contract field order, one newline-terminated line per event', () => {
    const env = decoded(
      JSON.stringify(
        toPaymentEvent({
          event_id: 'evt_1',
          event_type: 'payment_failed',
          event_timestamp: '2026-11-24T09:59:58Z',
          processor: 'stripe',
          failure_category: 'gateway_timeout',
          geo_bucket: 'US',
          retry_count: 2,
        }),
      ),
    );
    env.risk = {
      score: 0.42,
      band: 'elevated',
      drivers: ['timeout_clustering'],
      trajectory: 'stable',
      trajectoryRatio: 1,
    };
    const out = createLineSerializer('c1')([env, env], PROCESSED_AT);
    const lines = out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(Object.keys(JSON.parse(lines[0] ?? ''))).toEqual([
      'type',
      'schema_version',
      'event_id',
      'event_type',
      'event_timestamp',
      'processor',
      'failure_category',
      'geo_bucket',
      'retry_count',
      'stream_message_id',
      'consumer_name',
      'processed_at',
      'processor_risk_score',
      'processor_risk_band',
      'processor_risk_drivers',
    ]);
  });

  it('serialises payloads it cannot splice: unknown or reordered keys, no retry_count, a line break, wrong types', () => {
    const base = {
      event_id: 'evt_1',
      event_type: 'payment_succeeded',
      event_timestamp: '2026-11-24T09:59:58Z',
      processor: 'stripe',
      retry_count: 0,
    };
    const payloads = [
      JSON.stringify({ ...base, extra: 'dropped from the export' }),
      JSON.stringify({
        event_type: base.event_type,
        event_id: base.event_id,
        event_timestamp: base.event_timestamp,
        processor: base.processor,
        retry_count: 0,
      }),
      JSON.stringify({
        event_id: 'evt_1',
        event_type: 'payment_succeeded',
        event_timestamp: base.event_timestamp,
        processor: 'stripe',
      }),
      JSON.stringify(base, null, 1),
      // (A retry_count of 1.5 or a geo_bucket of 7 never get here: decode dead-letters them.)
      // JSON.parse keeps the last of a repeated key; spliced text would carry both.
      '{"event_id":"evt_1","event_type":"payment_succeeded","event_timestamp":"2026-11-24T09:59:58Z","processor":"stripe","merchant_id_hash":{"pan":"4111111111111111"},"merchant_id_hash":"m1","retry_count":0}',
      '{"event_id":"evt_1","event_type":"payment_succeeded","event_timestamp":"2026-11-24T09:59:58Z","processor":"stripe","retry_count":5,"retry_count":0}',
      // Integers not written as JSON.stringify writes them.
      '{"event_id":"evt_1","event_type":"payment_succeeded","event_timestamp":"2026-11-24T09:59:58Z","processor":"stripe","retry_count":1e1}',
      '{"event_id":"evt_1","event_type":"payment_succeeded","event_timestamp":"2026-11-24T09:59:58Z","processor":"stripe","retry_count":1.0}',
    ];
    const serialize = createLineSerializer('c1');
    for (const payload of payloads) {
      const env = decoded(payload);
      expect(env.eventJson, payload).toBeUndefined();
      const line = serialize([env], PROCESSED_AT);
      expect(line.endsWith('}\n') && line.indexOf('\n') === line.length - 1, payload).toBe(true);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.extra).toBeUndefined();
      expect(line).not.toContain('4111');
      expect(Number.isInteger(parsed.retry_count), payload).toBe(true);
    }
  });

  it('splices a stored event written with spaces between tokens as the same JSON', () => {
    const payload =
      '{ "event_id" : "evt_1", "event_type":"payment_failed", "event_timestamp":"2026-11-24T09:59:58Z", "processor":"stripe", "geo_bucket":"a \\"quoted\\" \\\\ geo", "retry_count":3 }';
    const env = decoded(payload);
    expect(env.eventJson).toBeDefined();
    const serialize = createLineSerializer('c1');
    expect(JSON.parse(serialize([env], PROCESSED_AT))).toEqual(JSON.parse(serialize([serialised(env)], PROCESSED_AT)));
  });

  it('keeps each event’s own tier context when events share one assessment', () => {
    const risk: RiskAssessment = {
      score: 0.65,
      band: 'high',
      drivers: ['high_failure_rate'],
      trajectory: 'accelerating',
      trajectoryRatio: 3,
    };
    const a = decoded(
      JSON.stringify(
        toPaymentEvent({
          ...{
            event_id: 'a',
            event_type: 'payment_failed',
            event_timestamp: '2026-11-24T09:59:58Z',
            processor: 'stripe',
          },
        }),
      ),
    );
    const b = decoded(
      JSON.stringify(
        toPaymentEvent({
          ...{
            event_id: 'b',
            event_type: 'payment_failed',
            event_timestamp: '2026-11-24T09:59:58Z',
            processor: 'stripe',
          },
        }),
      ),
    );
    a.risk = risk;
    b.risk = risk;
    a.tier = undefined;
    b.tier = { playbookContext: 'tier two text', riskTrajectory: undefined };
    const [la, lb] = createLineSerializer('c1')([a, b, a], PROCESSED_AT)
      .split('\n')
      .map((l) => (l === '' ? {} : (JSON.parse(l) as Record<string, unknown>)));
    expect(la?.processor_playbook_context).toBeUndefined();
    expect(lb?.processor_playbook_context).toBe('tier two text');
    expect(lb?.processor_risk_score).toBe(0.65);
  });

  it('encodes the same lines as UTF-8 bytes, batch after batch, growing its buffer past 1 MiB', () => {
    const encode = createLineEncoder('consumer "é"');
    const serialize = createLineSerializer('consumer "é"');
    // Ids as our sources make them, and any string: quotes, escapes and non-ASCII included.
    const idArb = fc.oneof(
      fc.constant('1732442400000-0'),
      fc.constant('0-17'),
      text,
      fc.string({
        unit: fc.constantFrom('\\', '"', '\u0001', '\u007f', 'é', '☕', '\ud800', '7', '-'),
        minLength: 1,
        maxLength: 6,
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, riskArb, tierArb, fc.boolean(), idArb), { maxLength: 20 }), (items) => {
        const envs = items.map(([event, risk, tier, splice, id]) => {
          const env = decoded(JSON.stringify(event), id);
          env.risk = risk;
          env.tier = tier;
          return splice ? env : serialised(env);
        });
        expect(Buffer.compare(encode(envs, PROCESSED_AT), Buffer.from(serialize(envs, PROCESSED_AT)))).toBe(0);
      }),
      { numRuns: 200 },
    );
    // 3,000 lines of ~1 KB with three-byte characters: several times the initial buffer.
    const wide = Array.from({ length: 3000 }, (_, i) =>
      decoded(
        JSON.stringify(
          toPaymentEvent({
            event_id: `w${i}`,
            event_type: 'payment_failed',
            event_timestamp: '2026-11-24T09:59:58Z',
            processor: 'stripe',
            merchant_id_hash: '☕'.repeat(100),
            channel: 'x'.repeat(100),
          }),
        ),
      ),
    );
    const big = encode(wide, PROCESSED_AT);
    expect(big.length).toBeGreaterThan(1 << 20);
    expect(big.toString('utf8')).toBe(serialize(wide, PROCESSED_AT));
    expect(encode(wide.slice(0, 2), PROCESSED_AT).toString('utf8')).toBe(serialize(wide.slice(0, 2), PROCESSED_AT));
  });
});

describe('export line: processor_risk_focus', () => {
  it('names the segment after the drivers and before the tier fields, spliced or serialised alike', () => {
    const risk: RiskAssessment = {
      score: 0.62,
      band: 'high',
      drivers: ['geo_failure_concentration'],
      trajectory: 'stable',
      trajectoryRatio: 1.2,
      focus: { geo_bucket: 'BR' },
    };
    const env = decoded(
      JSON.stringify(
        toPaymentEvent({
          event_id: 'f',
          event_type: 'payment_failed',
          event_timestamp: '2026-11-24T09:59:58Z',
          processor: 'stripe',
          geo_bucket: 'BR',
        }),
      ),
    );
    env.risk = risk;
    env.tier = { playbookContext: 'tier two text', riskTrajectory: undefined };
    const serialize = createLineSerializer('c1');
    const line = JSON.parse(serialize([env], PROCESSED_AT)) as Record<string, unknown>;
    expect(line.processor_risk_focus).toEqual({ geo_bucket: 'BR' });
    expect(Object.keys(line).slice(-3)).toEqual([
      'processor_risk_drivers',
      'processor_risk_focus',
      'processor_playbook_context',
    ]);
    expect(JSON.parse(serialize([serialised(env)], PROCESSED_AT))).toEqual(line);
  });
});
