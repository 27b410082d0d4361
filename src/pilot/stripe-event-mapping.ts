/**
 * Stripe webhook events → PayFlux: payment events for the pipeline, enforcement-like events as
 * outcomes for the open Stripe warning. Pure: no I/O; the table lives in docs/stripe.md.
 */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { PaymentEvent } from '../events/payment-event.js';
import type { OutcomeType } from './warning.js';

export type StripeMapping =
  | { readonly kind: 'payment'; readonly event: PaymentEvent }
  | { readonly kind: 'outcome'; readonly outcomeType: OutcomeType; readonly observedAt: string; readonly notes: string }
  | { readonly kind: 'ignored'; readonly reason: string };

const ignored = (reason: string): StripeMapping => ({ kind: 'ignored', reason });

/** Identifiers never leave in clear: sha256, hex. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** ISO 4217 currencies without minor units: their amounts are already whole units. */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const AMOUNT_EDGES = [10, 50, 100, 500, 1000, 5000] as const;

/** `usd:50-100`: coarse on purpose, so no amount can identify a payment. */
export function amountBucket(amount: number, currency: string): string {
  const c = currency.toLowerCase();
  const units = ZERO_DECIMAL.has(c) ? amount : amount / 100;
  let lower = 0;
  for (const edge of AMOUNT_EDGES) {
    if (units < edge) return `${c}:${lower}-${edge}`;
    lower = edge;
  }
  return `${c}:${lower}+`;
}

const cut = (s: string | null | undefined, max: number): string | undefined =>
  s === null || s === undefined || s === '' ? undefined : s.slice(0, max);

function methodBucket(type: string | undefined, brand: string | null | undefined): string | undefined {
  return cut(type === undefined ? undefined : brand ? `${type}:${brand}` : type, 100);
}

function paymentEvent(
  e: Stripe.Event,
  failed: boolean,
  fields: Omit<
    PaymentEvent,
    | 'event_id'
    | 'event_timestamp'
    | 'event_type'
    | 'processor'
    | 'merchant_id_hash'
    | 'retry_count'
    | 'system_source'
    | 'channel'
    | 'retry_result'
  >,
  processor: string,
): StripeMapping {
  return {
    kind: 'payment',
    // toPaymentEvent's field order (the export's), so the stored form splices into export lines.
    event: {
      event_id: e.id,
      event_type: failed ? 'payment_failed' : 'payment_succeeded',
      event_timestamp: new Date(e.created * 1000).toISOString(),
      processor,
      // Connect events name the connected account; a platform's own events have no merchant id.
      merchant_id_hash: e.account === undefined ? undefined : hashId(e.account),
      payment_intent_id_hash: fields.payment_intent_id_hash,
      failure_category: fields.failure_category,
      geo_bucket: fields.geo_bucket,
      retry_count: 0,
      amount_bucket: fields.amount_bucket,
      system_source: 'stripe_webhook',
      payment_method_bucket: fields.payment_method_bucket,
      channel: undefined,
      retry_result: undefined,
      failure_origin: fields.failure_origin,
    },
  };
}

function fromPaymentIntent(
  e: Stripe.Event,
  pi: Stripe.PaymentIntent,
  failed: boolean,
  processor: string,
): StripeMapping {
  const err = failed ? pi.last_payment_error : null;
  const pm = err?.payment_method ?? (typeof pi.payment_method === 'object' ? pi.payment_method : null);
  return paymentEvent(
    e,
    failed,
    {
      payment_intent_id_hash: hashId(pi.id),
      failure_category: failed ? (cut(err?.decline_code ?? err?.code, 100) ?? 'payment_failed') : undefined,
      geo_bucket: cut(pm?.card?.country ?? pm?.billing_details.address?.country, 20),
      amount_bucket: amountBucket(pi.amount, pi.currency),
      payment_method_bucket: methodBucket(pm?.type ?? err?.payment_method_type, pm?.card?.brand),
      failure_origin: failed ? cut(err?.type, 100) : undefined,
    },
    processor,
  );
}

function fromCharge(e: Stripe.Event, ch: Stripe.Charge, failed: boolean, processor: string): StripeMapping {
  const pi = ch.payment_intent;
  const details = ch.payment_method_details;
  return paymentEvent(
    e,
    failed,
    {
      // The payment intent when there is one, so both families of events hash to the same id.
      payment_intent_id_hash: hashId(pi === null ? ch.id : typeof pi === 'string' ? pi : pi.id),
      failure_category: failed ? (cut(ch.outcome?.reason ?? ch.failure_code, 100) ?? 'payment_failed') : undefined,
      geo_bucket: cut(details?.card?.country ?? ch.billing_details.address?.country, 20),
      amount_bucket: amountBucket(ch.amount, ch.currency),
      payment_method_bucket: methodBucket(details?.type, details?.card?.brand),
      failure_origin: failed ? cut(ch.outcome?.type, 100) : undefined,
    },
    processor,
  );
}

function outcome(e: Stripe.Event, outcomeType: OutcomeType, notes: string): StripeMapping {
  return {
    kind: 'outcome',
    outcomeType,
    observedAt: new Date(e.created * 1000).toISOString(),
    notes: notes.slice(0, 2000),
  };
}

/**
 * What is wrong with the envelope of a verified event (any JSON a signature covers), or
 * undefined: an object with a string `id` and `type`, a `created` time a date can hold, and a
 * `data.object` that is an object.
 */
export function envelopeProblem(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return 'the body is not a Stripe event object';
  const o = e as Record<string, unknown>;
  if (typeof o.id !== 'string' || o.id === '') return 'the event has no string id';
  if (typeof o.type !== 'string') return 'the event has no string type';
  const created = o.created;
  // Seconds since the epoch that a Date can hold (±8.64e12 s).
  if (typeof created !== 'number' || !Number.isFinite(created) || Math.abs(created) > 8.64e12)
    return `${o.type}: created is not a time in seconds`;
  const data = o.data as Record<string, unknown> | null | undefined;
  if (data === null || typeof data !== 'object' || data.object === null || typeof data.object !== 'object')
    return `${o.type}: data.object is not an object`;
  return undefined;
}

/**
 * Map one verified Stripe event. `processor` is the PayFlux processor name for Stripe traffic.
 * A signature proves who sent the bytes, not their shape: an envelope out of shape is ignored
 * with the reason, and a field of an unexpected type deeper down makes this throw (the route
 * answers that as ignored too), never a 5xx that Stripe would retry for days.
 */
export function mapStripeEvent(e: Stripe.Event, processor = 'stripe'): StripeMapping {
  const problem = envelopeProblem(e);
  if (problem !== undefined) return ignored(problem);
  switch (e.type) {
    case 'payment_intent.payment_failed':
      return fromPaymentIntent(e, e.data.object, true, processor);
    case 'payment_intent.succeeded':
      return fromPaymentIntent(e, e.data.object, false, processor);
    case 'charge.failed':
      return fromCharge(e, e.data.object, true, processor);
    case 'charge.succeeded':
      return fromCharge(e, e.data.object, false, processor);
    case 'radar.early_fraud_warning.created':
      return outcome(e, 'other', `Stripe early fraud warning (fraud_type ${e.data.object.fraud_type})`);
    case 'review.opened':
      return outcome(e, 'review', `Stripe Radar review opened (reason ${e.data.object.reason})`);
    case 'charge.dispute.created':
      return outcome(e, 'other', `Stripe dispute created (reason ${e.data.object.reason})`);
    case 'account.updated': {
      const a = e.data.object;
      const prev = e.data.previous_attributes ?? {};
      // Only a change to disabled counts: account.updated also fires for benign edits.
      const lost = [
        prev.charges_enabled === true && !a.charges_enabled ? 'charges disabled' : undefined,
        prev.payouts_enabled === true && !a.payouts_enabled ? 'payouts disabled' : undefined,
      ].filter((s) => s !== undefined);
      const reason = a.requirements?.disabled_reason;
      // previous_attributes holds only what changed: `disabled_reason` is there (null before)
      // when it was newly set, absent when some other requirement changed under an old one.
      const before = prev.requirements as { disabled_reason?: string | null } | undefined;
      const newlySet =
        before !== undefined && Object.hasOwn(before, 'disabled_reason') && !before.disabled_reason && Boolean(reason);
      if (lost.length === 0 && !newlySet) return ignored('account.updated disabled neither charges nor payouts');
      return outcome(
        e,
        'hold',
        `Stripe account restricted: ${lost.length > 0 ? lost.join(', ') : 'requirements'}${reason ? ` (${reason})` : ''}`,
      );
    }
    case 'capability.updated': {
      const c = e.data.object;
      const was = e.data.previous_attributes?.status;
      if (was !== 'active' || c.status === 'active' || c.status === 'pending')
        return ignored(`capability.updated is not a lost capability (${String(was)} → ${c.status})`);
      const reason = c.requirements?.disabled_reason;
      return outcome(e, 'hold', `Stripe capability ${c.id} ${c.status}${reason ? ` (${reason})` : ''}`);
    }
    default:
      return ignored(`PayFlux does not use ${e.type} events`);
  }
}
