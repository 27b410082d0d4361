import { beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import Stripe from 'stripe';
import { useRedis } from '../../support/use-redis.js';
import { chargeFailed, disputeCreated, piFailed, reviewOpened, stripeEvent } from '../../support/stripe-events.js';
import { dedupKeyFor } from '../../../src/buffer/dedup-key.js';
import { testBuffer } from '../../support/buffer.js';
import type { AppendOutcome, EventBuffer } from '../../../src/buffer/buffer.js';
import type { PaymentEvent } from '../../../src/events/payment-event.js';
import { createWarningStore, type WarningStore } from '../../../src/pilot/warning-store.js';
import { createOutcomeRecorder, type OutcomeAnnotationLine } from '../../../src/pilot/outcome-recorder.js';
import { stripeRoutes, type StripeRoutesOptions } from '../../../src/pilot/stripe-routes.js';
import { incident, transition } from './fixtures.js';
import { listen } from './app.js';

const SECRET = 'whsec_test_secret_0123456789';
const suite = useRedis();

/** A fake Stripe API on 127.0.0.1 that records what the client sent. */
let fakeStripe: Server;
let fakePort: number;
let fakeStatus = 200;
const stripeCalls: { path: string; auth: string | undefined; form: URLSearchParams }[] = [];

beforeAll(async () => {
  fakeStripe = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      stripeCalls.push({
        path: `${req.method} ${req.url}`,
        auth: req.headers.authorization,
        form: new URLSearchParams(body),
      });
      res.writeHead(fakeStatus, { 'content-type': 'application/json', 'request-id': 'req_fake' });
      res.end(
        JSON.stringify(
          fakeStatus === 200
            ? { id: 'cs_test_fake', object: 'checkout.session', url: 'https://checkout.stripe.com/c/pay/cs_test_fake' }
            : { error: { type: 'api_error', message: 'down on purpose' } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => fakeStripe.listen(0, '127.0.0.1', resolve));
  suite.defer(() => new Promise((resolve) => fakeStripe.close(resolve)));
  fakePort = (fakeStripe.address() as AddressInfo).port;
});

interface Harness {
  readonly url: string;
  readonly store: WarningStore;
  readonly buffer: EventBuffer;
  readonly ingested: PaymentEvent[];
  readonly appended: AppendOutcome[];
  readonly lines: OutcomeAnnotationLine[];
  readonly registry: Registry;
}

/** The routes on a real port, over a Redis buffer and warning store under the test's prefix. */
async function serve(overrides: Partial<StripeRoutesOptions> = {}): Promise<Harness> {
  const prefix = suite.prefix;
  const { buffer } = await testBuffer(suite, { dedupWindowSec: 86_400 });
  const store = createWarningStore({ redis: suite.redis, keyPrefix: prefix, maxWarnings: 100, retentionDays: 3650 });
  const registry = new Registry();
  const h: Harness = { url: '', store, buffer, ingested: [], appended: [], lines: [], registry };
  const outcomes = createOutcomeRecorder({ store, writeLine: (l) => h.lines.push(l), registry });
  // The real dedup-and-append of the buffer: what the root's micro-batched append does per batch.
  const ingest = async (events: readonly PaymentEvent[]): Promise<void> => {
    h.ingested.push(...events);
    h.appended.push(
      ...(await buffer.append(events.map((e) => ({ dedupKey: dedupKeyFor(e.event_id), payload: JSON.stringify(e) })))),
    );
  };
  const server = await listen(suite, (app) =>
    app.register(stripeRoutes, {
      webhookSecret: SECRET,
      ingest,
      pilot: { store, outcomes },
      checkout: {
        apiKey: 'sk_test_fake_123',
        priceCents: 9900,
        productName: 'PayFlux Early Access',
        siteUrl: 'http://localhost:8080/',
        perMinute: 10,
        trustProxy: false,
        client: { host: '127.0.0.1', port: fakePort, protocol: 'http', maxNetworkRetries: 0 },
      },
      ...overrides,
    }),
  );
  return { ...h, url: server.url };
}

async function deliver(
  url: string,
  event: Stripe.Event,
  opts: { secret?: string; timestamp?: number; tamper?: boolean; header?: string | null } = {},
): Promise<Response> {
  const payload = JSON.stringify(event, null, 2); // Stripe's own pretty printing: the bytes are what is signed
  const header =
    opts.header === undefined
      ? Stripe.webhooks.generateTestHeaderString({
          payload,
          secret: opts.secret ?? SECRET,
          timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
        })
      : opts.header;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (header !== null) headers['stripe-signature'] = header;
  return fetch(`${url}/v1/webhooks/stripe`, {
    method: 'POST',
    headers,
    body: opts.tamper ? payload.replace('4999', '5999') : payload,
  });
}

describe('Stripe webhooks', () => {
  it('turns signed payment events into PayFlux events with the Stripe event id', async () => {
    const h = await serve();
    for (const e of [piFailed(), chargeFailed()]) {
      const res = await deliver(h.url, e);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: true, handled: 'payment_event' });
    }
    expect(h.ingested.map((e) => [e.event_id, e.processor, e.event_type, e.failure_category])).toEqual([
      ['evt_pi_failed_1', 'stripe', 'payment_failed', 'insufficient_funds'],
      ['evt_ch_failed_1', 'stripe', 'payment_failed', 'do_not_honor'],
    ]);
    expect(JSON.stringify(h.ingested)).not.toMatch(/pi_123|acct_123|pi_777/);
  });

  it('stores a redelivered event once: same event id, deduplicated by the buffer', async () => {
    const h = await serve();
    expect((await deliver(h.url, piFailed('evt_redelivered'))).status).toBe(200);
    expect((await deliver(h.url, piFailed('evt_redelivered'))).status).toBe(200);
    expect(h.appended).toEqual(['accepted', 'duplicate']);
    expect((await h.buffer.stats()).length).toBe(1);
  });

  it('answers 503 when the buffer fails, so that Stripe retries the delivery', async () => {
    const h = await serve({ ingest: () => Promise.reject(new Error('connection refused')) });
    const res = await deliver(h.url, piFailed());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_BUFFER_UNAVAILABLE' } });
  });

  it.each([
    ['a signature made with another secret', { secret: 'whsec_someone_else' }, 'does not match'],
    ['a body changed after signing', { tamper: true }, 'does not match'],
    ['a stale signature (10 minutes old)', { timestamp: Math.floor(Date.now() / 1000) - 600 }, 'tolerance'],
    ['a garbage header', { header: 't=abc,v1=zzz' }, 'does not match'],
    ['no signature header', { header: null }, 'required'],
  ])('rejects %s with a 400 and ingests nothing', async (_label, opts, message) => {
    const h = await serve();
    const res = await deliver(h.url, piFailed(), opts);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; field: string; message: string } };
    expect(body.error).toMatchObject({ code: 'PF_ERR_VALIDATION', field: 'stripe-signature' });
    expect(body.error.message).toContain(message);
    expect(h.ingested).toEqual([]);
  });

  it('records an enforcement event as an outcome on the open Stripe warning, with its lead time, once', async () => {
    const h = await serve();
    await h.store.applyTransitions([
      transition('open', incident({ warning_id: 'stripe:evt_opener', processed_at: '2024-05-01T09:14:00.000Z' })),
      transition(
        'open',
        incident({ warning_id: 'adyen:evt_other', processor: 'adyen', processed_at: '2024-05-01T09:20:00.000Z' }),
      ),
    ]);
    const created = Date.parse('2024-05-01T09:31:00Z') / 1000;
    const res = await deliver(h.url, reviewOpened('evt_review_1', created));
    expect(await res.json()).toEqual({
      received: true,
      handled: 'outcome',
      warning_id: 'stripe:evt_opener',
      outcome: 'stored',
    });
    expect(await h.store.get('stripe:evt_opener')).toMatchObject({
      outcome_observed: true,
      outcome_type: 'review',
      outcome_source: 'stripe_webhook',
      outcome_timestamp: '2024-05-01T09:31:00.000Z',
      outcome_notes: 'Stripe Radar review opened (reason rule)',
    });
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatchObject({
      type: 'pilot_outcome_annotation',
      warning_id: 'stripe:evt_opener',
      outcome_source: 'stripe_webhook',
      outcome_type: 'review',
      stored: true,
      lead_time_seconds: 1020,
    });
    expect(await h.registry.metrics()).toContain(
      'payflux_warning_outcome_lead_time_seconds_sum{source="stripe_webhook"} 1020',
    );

    expect(await (await deliver(h.url, reviewOpened('evt_review_1', created))).json()).toMatchObject({
      outcome: 'duplicate',
    });
    expect(h.lines).toHaveLength(1);

    expect(await (await deliver(h.url, disputeCreated('evt_dispute_1', created + 60))).json()).toMatchObject({
      outcome: 'kept',
    });
    expect(h.lines[1]).toMatchObject({ outcome_type: 'other', stored: false, lead_time_seconds: 1080 });
    expect(await h.store.get('stripe:evt_opener')).toMatchObject({ outcome_type: 'review' });
    // The dispute is not lost: every enforcement event is on the warning, in time order.
    expect((await h.store.get('stripe:evt_opener'))?.outcomes.map((o) => o.outcome_notes)).toEqual([
      'Stripe Radar review opened (reason rule)',
      expect.stringContaining('Stripe dispute created'),
    ]);
    expect(await h.store.get('adyen:evt_other')).toMatchObject({ outcome_observed: false, outcomes: [] });
  });

  it('attaches to a recently resolved Stripe warning, and leaves an outcome with no warning unmatched', async () => {
    const h = await serve();
    const created = Date.parse('2024-05-01T12:00:00Z') / 1000;
    expect(await (await deliver(h.url, reviewOpened('evt_r0', created))).json()).toEqual({
      received: true,
      handled: 'outcome_unmatched',
    });
    await h.store.applyTransitions([
      transition(
        'resolve',
        incident({ warning_id: 'stripe:evt_old', status: 'resolved', resolved_at: '2024-05-01T10:00:00.000Z' }),
      ),
    ]);
    expect(await (await deliver(h.url, reviewOpened('evt_r1', created))).json()).toMatchObject({
      handled: 'outcome',
      warning_id: 'stripe:evt_old',
    });
    expect(h.lines.map((l) => l.lead_time_seconds)).toEqual([2 * 3600 + 46 * 60]);
  });

  it('acknowledges enforcement events without touching warnings when pilot mode is off', async () => {
    const h = await serve({ pilot: undefined });
    expect(await (await deliver(h.url, reviewOpened('evt_r', 1_714_554_840))).json()).toEqual({
      ignored: 'pilot mode is off: review.opened is not recorded',
    });
  });

  it('answers 200 with the reason for a signed event it does not use, or of a shape it does not expect', async () => {
    const h = await serve();
    const unused = await deliver(h.url, stripeEvent('evt_cus', 'customer.created', { id: 'cus_1' }));
    expect(unused.status).toBe(200);
    expect(await unused.json()).toEqual({ ignored: 'PayFlux does not use customer.created events' });
    // A payment_intent event without the payment intent's fields.
    const odd = await deliver(h.url, stripeEvent('evt_odd', 'payment_intent.payment_failed', { id: 'pi_x' }));
    expect(odd.status).toBe(200);
    expect(await odd.json()).toEqual({
      ignored: expect.stringMatching(/^payment_intent.payment_failed has a shape PayFlux does not expect/),
    });
    expect(h.ingested).toEqual([]);
  });
});

describe('Stripe checkout', () => {
  it('creates a Checkout Session through the stripe package and returns its URL', async () => {
    const h = await serve();
    stripeCalls.length = 0;
    fakeStatus = 200;
    const res = await fetch(`${h.url}/checkout`, { method: 'POST', headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'cs_test_fake', url: 'https://checkout.stripe.com/c/pay/cs_test_fake' });
    expect(stripeCalls).toHaveLength(1);
    const call = stripeCalls[0]!;
    expect(call.path).toBe('POST /v1/checkout/sessions');
    expect(call.auth).toBe('Bearer sk_test_fake_123');
    expect(Object.fromEntries(call.form)).toMatchObject({
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '9900',
      'line_items[0][price_data][product_data][name]': 'PayFlux Early Access',
      success_url: 'http://localhost:8080/?checkout=success&session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://localhost:8080/?checkout=cancelled',
    });

    const form = await fetch(`${h.url}/checkout`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'buy=1',
      redirect: 'manual',
    });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('https://checkout.stripe.com/c/pay/cs_test_fake');
  });

  it('answers 502 when Stripe fails', async () => {
    const h = await serve();
    fakeStatus = 500;
    const res = await fetch(`${h.url}/checkout`, { method: 'POST' });
    fakeStatus = 200;
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_UPSTREAM' } });
  });

  it('limits sessions per client address: 429 with Retry-After, and Stripe is not called', async () => {
    const h = await serve({
      checkout: {
        apiKey: 'sk_test_fake_123',
        priceCents: 9900,
        productName: 'PayFlux Early Access',
        siteUrl: 'http://localhost:8080/',
        perMinute: 2,
        trustProxy: true,
        client: { host: '127.0.0.1', port: fakePort, protocol: 'http', maxNetworkRetries: 0 },
      },
    });
    stripeCalls.length = 0;
    fakeStatus = 200;
    const press = (ip: string) =>
      fetch(`${h.url}/checkout`, { method: 'POST', headers: { accept: 'application/json', 'x-forwarded-for': ip } });
    expect((await press('203.0.113.7')).status).toBe(200);
    expect((await press('203.0.113.7')).status).toBe(200);
    const limited = await press('203.0.113.7');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: { code: 'PF_ERR_RATE_LIMITED' } });
    // Another address has its own budget, within the cap across all addresses (10 × 2 a minute).
    expect((await press('198.51.100.9')).status).toBe(200);
    for (let i = 0; i < 17; i++) expect((await press(`198.51.100.${100 + i}`)).status).toBe(200);
    const capped = await press('198.51.100.200');
    expect(capped.status).toBe(429);
    expect(await capped.json()).toMatchObject({
      error: { code: 'PF_ERR_RATE_LIMITED', message: expect.stringContaining('right now') },
    });
    expect(stripeCalls).toHaveLength(20);
  });

  it('has neither route without STRIPE_WEBHOOK_SECRET and STRIPE_API_KEY', async () => {
    const h = await serve({ webhookSecret: undefined, checkout: undefined });
    expect((await deliver(h.url, piFailed())).status).toBe(404);
    expect((await fetch(`${h.url}/checkout`, { method: 'POST' })).status).toBe(404);
  });
});
