/**
 * Stripe: `POST /v1/webhooks/stripe` verifies the signature over the raw body, hands
 * payment events to ingest (deduplicated there by the Stripe event id, so a redelivery is
 * exported once) and records enforcement-like events as outcomes on the Stripe warning, through
 * the same recorder as the manual route. `POST /checkout` creates a Checkout Session.
 * Neither route takes the PayFlux key: Stripe signs its calls, and checkout is a public button.
 * Because anyone can press it, and each press is a call to Stripe's API on our account,
 * checkout is rate-limited per client address (`PAYFLUX_CHECKOUT_RATELIMIT_PER_MIN`).
 */
import type Stripe from 'stripe';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PayFluxError } from '../errors.js';
import type { PaymentEvent } from '../events/payment-event.js';
import type { Warning } from './warning.js';
import type { WarningStore } from './warning-store.js';
import type { OutcomeRecorder } from './outcome-recorder.js';
import { clientBucket } from '../http/client-address.js';
import { mapStripeEvent, type StripeMapping } from './stripe-event-mapping.js';
import { createTokenBuckets } from '../http/token-bucket.js';

export interface StripeCheckoutOptions {
  /** `STRIPE_API_KEY` (`sk_…`). */
  readonly apiKey: string;
  readonly priceCents: number;
  readonly productName: string;
  readonly siteUrl: string;
  readonly currency?: string;
  /** Sessions a client address may create per minute (also the burst); 0 disables the limit. */
  readonly perMinute: number;
  /** Take the client address from `x-forwarded-for` (PAYFLUX_TRUST_PROXY). */
  readonly trustProxy: boolean;
  /** Extra client settings: tests point `host`/`port`/`protocol` at a local fake API. */
  readonly client?: Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol' | 'timeout' | 'maxNetworkRetries'>;
}

export interface StripeRoutesOptions {
  /** `STRIPE_WEBHOOK_SECRET`; the webhook route is registered only when it is set. */
  readonly webhookSecret: string | undefined;
  /**
   * The ingest path for mapped payment events (validation, dedup by event_id, append). A thrown
   * PayFluxError is the answer to Stripe; any other error answers 503 so that Stripe retries.
   */
  readonly ingest: (events: readonly PaymentEvent[]) => Promise<unknown>;
  /** Pilot mode's store and recorder; without them enforcement events are acknowledged and ignored. */
  readonly pilot?: { readonly store: WarningStore; readonly outcomes: OutcomeRecorder } | undefined;
  /** The checkout route exists only with these (only when `STRIPE_API_KEY` is set). */
  readonly checkout?: StripeCheckoutOptions | undefined;
  /** The PayFlux processor name of Stripe traffic. */
  readonly processor?: string;
  /** Signature age accepted, seconds (Stripe's default 300). */
  readonly toleranceSec?: number;
  /** With no open Stripe warning, an outcome goes to the latest one resolved at most this long before it. */
  readonly correlationWindowSec?: number;
  readonly bodyLimit?: number;
}

const DAY_SEC = 86_400;

/** The open warning of the processor, else the latest one resolved within the window before `atMs`. */
async function warningFor(
  store: WarningStore,
  processor: string,
  atMs: number,
  windowMs: number,
): Promise<Warning | undefined> {
  const open = (await store.list({ processor, status: 'open', limit: 1 })).warnings[0];
  if (open !== undefined) return open;
  const last = (await store.list({ processor, limit: 1 })).warnings[0];
  if (last?.resolved_at == null) return undefined;
  const resolvedMs = Date.parse(last.resolved_at);
  return atMs >= Date.parse(last.processed_at) && atMs - resolvedMs <= windowMs ? last : undefined;
}

function signatureError(err: unknown): PayFluxError {
  const stale = err instanceof Error && /tolerance/i.test(err.message);
  const message = stale
    ? 'stripe-signature timestamp is outside the tolerance (stale or replayed delivery)'
    : 'stripe-signature does not match the payload and the webhook secret';
  return new PayFluxError('PF_ERR_VALIDATION', message, { field: 'stripe-signature' });
}

/** Our errors pass through; anything else is the buffer failing: 503, and Stripe retries the delivery. */
async function ingestOrUnavailable(ingest: StripeRoutesOptions['ingest'], event: PaymentEvent): Promise<void> {
  try {
    await ingest([event]);
  } catch (err) {
    if (err instanceof PayFluxError) throw err;
    throw new PayFluxError('PF_ERR_BUFFER_UNAVAILABLE', undefined, { retryAfterSec: 1 });
  }
}

function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html') && !accept.includes('application/json');
}

/** The cap across all addresses, in multiples of the per-address limit. */
const GLOBAL_FACTOR = 10;

export const stripeRoutes: FastifyPluginAsync<StripeRoutesOptions> = async (app, opts) => {
  const processor = opts.processor ?? 'stripe';
  const tolerance = opts.toleranceSec ?? 300;
  const windowMs = (opts.correlationWindowSec ?? 3 * DAY_SEC) * 1000;
  const bodyLimit = opts.bodyLimit ?? 1_048_576;
  const secret = opts.webhookSecret;
  const co = opts.checkout;
  if (secret === undefined && co === undefined) return;
  // Stripe's SDK takes ~0.4 s to load: only a node that serves these routes loads it.
  const { default: StripeSdk } = await import('stripe');

  if (secret !== undefined) {
    await app.register(async (hooks) => {
      // The signature covers the exact bytes Stripe sent: keep them, parse after verifying.
      hooks.removeContentTypeParser('application/json');
      hooks.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_req, body, done) =>
        done(null, body),
      );

      hooks.post('/v1/webhooks/stripe', async (req) => {
        const sig = req.headers['stripe-signature'];
        if (typeof sig !== 'string' || sig === '')
          throw new PayFluxError('PF_ERR_VALIDATION', 'stripe-signature header is required', {
            field: 'stripe-signature',
          });
        if (!Buffer.isBuffer(req.body))
          throw new PayFluxError('PF_ERR_VALIDATION', 'body must be the JSON event Stripe sent', { field: 'body' });
        let event: Stripe.Event;
        try {
          event = StripeSdk.webhooks.constructEvent(req.body, sig, secret, tolerance);
        } catch (err) {
          throw signatureError(err);
        }

        // Stripe retries anything but a 2xx for days: an event PayFlux cannot use is answered
        // 200 with the reason, never a 5xx that no retry could cure.
        let mapped: StripeMapping;
        try {
          mapped = mapStripeEvent(event, processor);
        } catch (err) {
          return { ignored: `${event.type} has a shape PayFlux does not expect (${(err as Error).message})` };
        }
        switch (mapped.kind) {
          case 'payment':
            await ingestOrUnavailable(opts.ingest, mapped.event);
            return { received: true, handled: 'payment_event' };
          case 'ignored':
            return { ignored: mapped.reason };
          case 'outcome': {
            if (opts.pilot === undefined) return { ignored: `pilot mode is off: ${event.type} is not recorded` };
            const w = await warningFor(opts.pilot.store, processor, Date.parse(mapped.observedAt), windowMs);
            if (w === undefined) return { received: true, handled: 'outcome_unmatched' };
            const input = {
              outcome_type: mapped.outcomeType,
              observed_at: mapped.observedAt,
              source: 'stripe_webhook',
              notes: mapped.notes,
            } as const;
            // Automatic outcomes never overwrite one already recorded; a redelivery is not counted twice.
            const r = await opts.pilot.outcomes.record(w.warning_id, input, {
              overwrite: false,
              idempotencyKey: `stripe:${event.id}`,
            });
            return { received: true, handled: 'outcome', warning_id: w.warning_id, outcome: r.status };
          }
        }
      });
    });
  }

  if (co !== undefined) {
    const stripe = new StripeSdk(co.apiKey, { maxNetworkRetries: 1, timeout: 10_000, telemetry: false, ...co.client });
    const site = co.siteUrl.replace(/\/+$/, '');
    const buckets = createTokenBuckets({ rps: co.perMinute / 60, burst: co.perMinute, maxKeys: 10_000 });
    // And a cap across every address: many addresses (a botnet, or a proxy chain sharing one
    // entry) must not turn the button into unlimited Stripe API calls either.
    const overall = createTokenBuckets({
      rps: (GLOBAL_FACTOR * co.perMinute) / 60,
      burst: GLOBAL_FACTOR * co.perMinute,
      maxKeys: 1,
    });
    await app.register(async (checkout) => {
      // A plain HTML form posts urlencoded; the route reads nothing from the body.
      checkout.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 4096 },
        (_req, _body, done) => done(null, undefined),
      );

      checkout.post('/checkout', async (req, reply) => {
        if (buckets.enabled) {
          const now = Date.now();
          const t = buckets.take(clientBucket(req.headers, req.socket.remoteAddress ?? '', co.trustProxy), now);
          if (!t.ok)
            throw new PayFluxError('PF_ERR_RATE_LIMITED', 'too many checkout sessions from this address; retry later', {
              retryAfterSec: t.retryAfterSec,
            });
          const all = overall.take('all', now);
          if (!all.ok)
            throw new PayFluxError('PF_ERR_RATE_LIMITED', 'too many checkout sessions right now; retry later', {
              retryAfterSec: all.retryAfterSec,
            });
        }
        let session: Stripe.Checkout.Session;
        try {
          session = await stripe.checkout.sessions.create({
            mode: 'payment',
            line_items: [
              {
                quantity: 1,
                price_data: {
                  currency: co.currency ?? 'usd',
                  unit_amount: co.priceCents,
                  product_data: { name: co.productName },
                },
              },
            ],
            success_url: `${site}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
            cancel_url: `${site}/?checkout=cancelled`,
          });
        } catch (err) {
          req.server.log.warn(
            { reqId: req.id, err: { message: err instanceof Error ? err.message : String(err) } },
            'stripe_checkout_failed',
          );
          throw new PayFluxError('PF_ERR_UPSTREAM', 'the payment provider could not create a checkout session');
        }
        if (session.url === null)
          throw new PayFluxError('PF_ERR_UPSTREAM', 'the payment provider returned no checkout URL');
        if (wantsHtml(req)) return reply.redirect(session.url, 303);
        return { id: session.id, url: session.url };
      });
    });
  }
};
