/**
 * Stripe payment events through the whole app: the same validation, dedup and metrics as
 * POST /v1/events/payment_exhaust (the route tests in stripe-routes.test.ts fake the ingest).
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { useApp } from '../../support/app.js';
import { defined, poll } from '../../support/poll.js';
import { metric } from '../../support/probes.js';
import { piFailed } from '../../support/stripe-events.js';

const SECRET = 'whsec_test_secret_0123456789';

/** Delivered as Stripe would now: the event's `created` (its PayFlux event time) is now. */
async function deliver(url: string, event: Stripe.Event): Promise<Response> {
  const payload = JSON.stringify({ ...event, created: Math.floor(Date.now() / 1000) }, null, 2);
  const header = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: SECRET,
    timestamp: Math.floor(Date.now() / 1000),
  });
  return fetch(`${url}/v1/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
    body: payload,
  });
}

describe('Stripe payment events, end to end', () => {
  const suite = useApp({ STRIPE_WEBHOOK_SECRET: SECRET, PAYFLUX_RATELIMIT_RPS: '0' });

  it('are counted like any ingested event and exported', async () => {
    const before = await metric(suite.app.url, 'payflux_events_by_processor_total', { processor: 'stripe' });
    const res = await deliver(suite.app.url, piFailed('evt_stripe_e2e_1'));
    expect(res.status).toBe(200);
    expect(await metric(suite.app.url, 'payflux_events_by_processor_total', { processor: 'stripe' })).toBe(before + 1);
    await poll('the export line', () => suite.app.lines.find((l) => l.event_id === 'evt_stripe_e2e_1'), defined, {
      timeoutMs: 3000,
    });
    expect((await deliver(suite.app.url, piFailed('evt_stripe_e2e_1'))).status).toBe(200);
    expect(await metric(suite.app.url, 'payflux_ingest_duplicate_total')).toBeGreaterThanOrEqual(1);
  });

  it('are accepted however old their event time (a delivery retried for days), and exported', async () => {
    const payload = JSON.stringify(piFailed('evt_stripe_old'), null, 2); // created 2024-05-01
    const header = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const res = await fetch(`${suite.app.url}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, handled: 'payment_event' });
    await poll('the export line', () => suite.app.lines.find((l) => l.event_id === 'evt_stripe_old'), defined);
  });
});

describe('Stripe payment events for a processor that is not configured', () => {
  const suite = useApp({ STRIPE_WEBHOOK_SECRET: SECRET, PAYFLUX_PROCESSORS: 'adyen,checkout' });

  it('are refused with a 400 naming the rule, counted, and not stored', async () => {
    const res = await deliver(suite.app.url, piFailed('evt_stripe_unknown_processor'));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_VALIDATION', field: 'processor' } });
    expect(await metric(suite.app.url, 'payflux_ingest_rejected_total', { reason: 'validation' })).toBe(1);
    expect(await suite.redis.xlen(suite.app.stream)).toBe(0);
  });
});
