/**
 * Signed Stripe events of any shape: a signature proves who sent the bytes, not their shape.
 * Whatever JSON arrives with a valid signature, the webhook answers 200 (`ignored` with a reason,
 * or handled) or a 4xx naming the rule, never a 5xx that Stripe would retry for days.
 * A property test over random JSON shapes, each signed with a real Stripe signature, over real
 * HTTP; mapped payment events go through the real ingest validation.
 */
import fc from 'fast-check';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createEventValidator } from '../../../src/events/validate-event.js';
import { stripeRoutes } from '../../../src/pilot/stripe-routes.js';
import { useSuite } from '../../support/use-suite.js';
import { listen } from './app.js';
import { chargeFailed, piFailed } from '../../support/stripe-events.js';

const SECRET = 'whsec_shapes_0123456789';
const suite = useSuite();

const TYPES = [
  'payment_intent.payment_failed',
  'payment_intent.succeeded',
  'charge.failed',
  'charge.succeeded',
  'radar.early_fraud_warning.created',
  'review.opened',
  'charge.dispute.created',
  'account.updated',
  'capability.updated',
  'customer.created',
] as const;

/** Any JSON value, small. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
/**
 * Events shaped like the ones the mapping reads. `loose`: each field may also be missing, null or
 * any other JSON; otherwise every field has the type Stripe gives it (the mapping's success path).
 */
function stripeShaped(loose: boolean): fc.Arbitrary<unknown> {
  const field = (right: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    loose ? fc.oneof(right, right, anyJson, fc.constant(null)) : right;
  const opts = { requiredKeys: loose ? [] : undefined } as const;

  const card = fc.record(
    { country: field(fc.constantFrom('US', 'DE')), brand: field(fc.constantFrom('visa', 'amex')) },
    opts,
  );
  const paymentMethod = fc.record(
    { id: field(fc.string()), type: field(fc.constantFrom('card', 'sepa_debit')), card: field(card) },
    opts,
  );
  /** Shaped like the objects the mapping reads, every field possibly missing or of another type. */
  const dataObject = fc.record(
    {
      id: field(fc.constantFrom('pi_1', 'ch_1', 'cap_1')),
      amount: field(fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.double())),
      currency: field(fc.constantFrom('usd', 'jpy', 'EUR')),
      payment_intent: field(fc.oneof(fc.constant('pi_1'), fc.record({ id: field(fc.string()) }))),
      payment_method: field(paymentMethod),
      last_payment_error: field(
        fc.record(
          {
            type: field(fc.string()),
            code: field(fc.string()),
            decline_code: field(fc.string()),
            payment_method: field(paymentMethod),
            payment_method_type: field(fc.string()),
          },
          opts,
        ),
      ),
      outcome: field(fc.record({ reason: field(fc.string()), type: field(fc.string()) }, opts)),
      failure_code: field(fc.string()),
      payment_method_details: field(fc.record({ type: field(fc.string()), card: field(card) }, opts)),
      billing_details: field(fc.record({ address: field(fc.record({ country: field(fc.string()) })) })),
      fraud_type: field(fc.string()),
      reason: field(fc.string()),
      charges_enabled: field(fc.boolean()),
      payouts_enabled: field(fc.boolean()),
      status: field(fc.constantFrom('active', 'inactive', 'pending')),
      requirements: field(fc.record({ disabled_reason: field(fc.string()) }, opts)),
    },
    opts,
  );
  const event = fc.record(
    {
      id: field(fc.stringMatching(/^evt_[A-Za-z0-9]{1,20}$/)),
      object: fc.constant('event'),
      type: field(fc.constantFrom(...TYPES)),
      created: field(
        fc.oneof(
          fc.integer({ min: 1_500_000_000, max: Math.floor(Date.now() / 1000) }),
          fc.constant(1e20),
          fc.double(),
          fc.string(),
        ),
      ),
      account: field(fc.string()),
      data: field(
        fc.record(
          {
            object: field(dataObject),
            previous_attributes: field(fc.record({ charges_enabled: field(fc.boolean()) })),
          },
          opts,
        ),
      ),
    },
    opts,
  );
  return event;
}

describe('Stripe webhook over events of any shape', { timeout: 120_000 }, () => {
  it('answers every signed body 200 or 4xx, never 5xx; payment events that pass are valid PayFlux events', async () => {
    const validate = createEventValidator({ processors: ['stripe'], maxClockSkewSec: 300 });
    const ingested: unknown[] = [];
    const server = await listen(suite, (app) =>
      app.register(stripeRoutes, {
        webhookSecret: SECRET,
        // The real validation, as the root's ingest runs it; storing is a list.
        ingest: async (events) => {
          for (const e of events) {
            const v = validate(e, Date.now());
            if (!v.ok) throw v.error;
            ingested.push(v.event);
          }
        },
      }),
    );
    const deliver = async (payload: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
      const res = await fetch(`${server.url}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': header },
        body: payload,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    // The shapes the issue names, then random ones.
    const pi = piFailed() as unknown as { data: { object: Record<string, unknown> } };
    const ch = chargeFailed() as unknown as { data: { object: Record<string, unknown> } };
    const named: unknown[] = [
      null,
      [],
      'evt',
      { ...pi, created: '1714554840x' },
      { ...pi, created: 1e20 },
      { ...pi, data: { object: null } },
      { ...ch, data: { object: { ...ch.data.object, currency: undefined } } },
      { ...ch, data: { object: { ...ch.data.object, currency: 978 } } },
      {
        ...pi,
        data: {
          object: {
            ...pi.data.object,
            last_payment_error: { decline_code: { nested: true }, type: 'card_error' },
          },
        },
      },
      { ...pi, data: { object: { ...pi.data.object, id: undefined } } },
    ];
    for (const body of named) {
      const r = await deliver(JSON.stringify(body));
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(typeof r.body.ignored, JSON.stringify(body)).toBe('string');
    }

    let handled = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(stripeShaped(true), stripeShaped(false), anyJson), async (body) => {
        const r = await deliver(JSON.stringify(body));
        if (r.status === 200) {
          if (r.body.handled === 'payment_event') handled++;
          else expect(typeof r.body.ignored).toBe('string');
        } else {
          expect(r.status).toBeGreaterThanOrEqual(400);
          expect(r.status).toBeLessThan(500);
          expect(String((r.body.error as { code?: string } | undefined)?.code)).toMatch(/^PF_ERR_/);
        }
      }),
      { numRuns: 400 },
    );
    // The generator reaches the mapping's success path, not only its refusals.
    expect(handled).toBeGreaterThan(0);
    expect(ingested.length).toBe(handled);
  });
});
