/** Stripe webhook events as Stripe sends them (only the fields PayFlux reads, plus the envelope). */
import type Stripe from 'stripe';

export function stripeEvent(
  id: string,
  type: string,
  object: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Stripe.Event {
  return {
    id,
    object: 'event',
    api_version: '2025-01-27.acacia',
    created: 1_714_554_840, // 2024-05-01T09:14:00Z
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
    ...extra,
  } as unknown as Stripe.Event;
}

export const piFailed = (id = 'evt_pi_failed_1'): Stripe.Event =>
  stripeEvent(
    id,
    'payment_intent.payment_failed',
    {
      id: 'pi_123',
      object: 'payment_intent',
      amount: 4999,
      currency: 'usd',
      payment_method: null,
      last_payment_error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        payment_method: {
          id: 'pm_1',
          object: 'payment_method',
          type: 'card',
          card: { brand: 'visa', country: 'US' },
          billing_details: { address: { country: 'CA' } },
        },
      },
    },
    { account: 'acct_123' },
  );

export const chargeFailed = (id = 'evt_ch_failed_1'): Stripe.Event =>
  stripeEvent(id, 'charge.failed', {
    id: 'ch_1',
    object: 'charge',
    amount: 120_000,
    currency: 'jpy',
    payment_intent: 'pi_777',
    failure_code: 'card_declined',
    outcome: { type: 'issuer_declined', reason: 'do_not_honor' },
    payment_method_details: { type: 'card', card: { brand: 'mastercard', country: 'JP' } },
    billing_details: { address: null },
  });

export const chargeSucceeded = (id = 'evt_ch_ok_1'): Stripe.Event =>
  stripeEvent(id, 'charge.succeeded', {
    id: 'ch_2',
    object: 'charge',
    amount: 2500,
    currency: 'eur',
    payment_intent: null,
    failure_code: null,
    outcome: { type: 'authorized', reason: null },
    payment_method_details: { type: 'sepa_debit' },
    billing_details: { address: { country: 'DE' } },
  });

export const reviewOpened = (id: string, created: number): Stripe.Event =>
  stripeEvent(id, 'review.opened', { id: 'prv_1', object: 'review', reason: 'rule', charge: 'ch_1' }, { created });

export const disputeCreated = (id: string, created: number): Stripe.Event =>
  stripeEvent(
    id,
    'charge.dispute.created',
    { id: 'dp_1', object: 'dispute', reason: 'fraudulent', amount: 4999 },
    { created },
  );
