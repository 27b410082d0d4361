import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { eventMembers } from '../../../src/events/stored-form.js';
import { amountBucket, mapStripeEvent } from '../../../src/pilot/stripe-event-mapping.js';
import { chargeFailed, chargeSucceeded, piFailed, stripeEvent } from '../../support/stripe-events.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('mapStripeEvent', () => {
  it('maps payment_intent.payment_failed to a failed PayFlux event with hashed ids and the decline code', () => {
    expect(mapStripeEvent(piFailed())).toEqual({
      kind: 'payment',
      event: {
        event_id: 'evt_pi_failed_1',
        event_timestamp: '2024-05-01T09:14:00.000Z',
        event_type: 'payment_failed',
        processor: 'stripe',
        merchant_id_hash: sha('acct_123'),
        payment_intent_id_hash: sha('pi_123'),
        failure_category: 'insufficient_funds',
        geo_bucket: 'US',
        retry_count: 0,
        amount_bucket: 'usd:10-50',
        system_source: 'stripe_webhook',
        payment_method_bucket: 'card:visa',
        channel: undefined,
        retry_result: undefined,
        failure_origin: 'card_error',
      },
    });
  });

  it('maps charge.failed with the outcome reason, the issuer verdict and the payment intent hash', () => {
    const m = mapStripeEvent(chargeFailed());
    expect(m).toMatchObject({
      kind: 'payment',
      event: {
        event_type: 'payment_failed',
        failure_category: 'do_not_honor',
        failure_origin: 'issuer_declined',
        payment_intent_id_hash: sha('pi_777'),
        amount_bucket: 'jpy:5000+',
        geo_bucket: 'JP',
        payment_method_bucket: 'card:mastercard',
        merchant_id_hash: undefined,
      },
    });
  });

  it('maps successes without failure fields, hashing the charge id when there is no payment intent', () => {
    expect(mapStripeEvent(chargeSucceeded())).toMatchObject({
      kind: 'payment',
      event: {
        event_type: 'payment_succeeded',
        failure_category: undefined,
        failure_origin: undefined,
        payment_intent_id_hash: sha('ch_2'),
        geo_bucket: 'DE',
        payment_method_bucket: 'sepa_debit',
        amount_bucket: 'eur:10-50',
      },
    });
    const pi = stripeEvent('evt_pi_ok', 'payment_intent.succeeded', {
      id: 'pi_9',
      object: 'payment_intent',
      amount: 100,
      currency: 'usd',
      payment_method: 'pm_x',
      last_payment_error: null,
    });
    expect(mapStripeEvent(pi)).toMatchObject({
      kind: 'payment',
      event: { event_id: 'evt_pi_ok', event_type: 'payment_succeeded', amount_bucket: 'usd:0-10' },
    });
  });

  it('falls back to the error code, then to payment_failed, when Stripe gives no decline code', () => {
    const noDecline = stripeEvent('evt_x', 'payment_intent.payment_failed', {
      id: 'pi_1',
      amount: 1,
      currency: 'usd',
      payment_method: null,
      last_payment_error: { type: 'card_error', code: 'authentication_required' },
    });
    expect(mapStripeEvent(noDecline)).toMatchObject({ event: { failure_category: 'authentication_required' } });
    const bare = stripeEvent('evt_y', 'charge.failed', {
      id: 'ch_1',
      amount: 1,
      currency: 'usd',
      payment_intent: null,
      failure_code: null,
      outcome: null,
      payment_method_details: null,
      billing_details: { address: null },
    });
    expect(mapStripeEvent(bare)).toMatchObject({
      event: { failure_category: 'payment_failed', failure_origin: undefined },
    });
  });

  it.each([
    ['radar.early_fraud_warning.created', { fraud_type: 'made_with_stolen_card' }, 'other', 'early fraud warning'],
    ['review.opened', { reason: 'rule' }, 'review', 'review opened'],
    ['charge.dispute.created', { reason: 'fraudulent' }, 'other', 'dispute created'],
  ])('maps %s to an outcome', (type, object, outcomeType, notes) => {
    const m = mapStripeEvent(stripeEvent('evt_o', type, object));
    expect(m).toMatchObject({ kind: 'outcome', outcomeType, observedAt: '2024-05-01T09:14:00.000Z' });
    expect(m.kind === 'outcome' && m.notes).toContain(notes);
  });

  const ACCOUNT = { id: 'acct_1', charges_enabled: true, payouts_enabled: true };
  const PAST_DUE = { ...ACCOUNT, requirements: { disabled_reason: 'requirements.past_due', currently_due: ['x'] } };
  /** Account and capability updates: the object after, its attributes before, and the hold's notes (none: ignored). */
  const updates: {
    what: string;
    type: string;
    object: Record<string, unknown>;
    previous: Record<string, unknown>;
    hold?: string;
  }[] = [
    {
      what: 'an account losing charges',
      type: 'account.updated',
      object: { ...ACCOUNT, charges_enabled: false, requirements: { disabled_reason: 'requirements.past_due' } },
      previous: { charges_enabled: true },
      hold: 'Stripe account restricted: charges disabled (requirements.past_due)',
    },
    { what: 'a benign account update', type: 'account.updated', object: ACCOUNT, previous: { email: 'x' } },
    {
      what: 'a disabled_reason newly set',
      type: 'account.updated',
      object: PAST_DUE,
      previous: { requirements: { disabled_reason: null } },
      hold: 'Stripe account restricted: requirements (requirements.past_due)',
    },
    {
      what: 'another requirement changing under an old disabled_reason',
      type: 'account.updated',
      object: PAST_DUE,
      previous: { requirements: { currently_due: [] } },
    },
    {
      what: 'a capability going from active to inactive',
      type: 'capability.updated',
      object: { id: 'card_payments', status: 'inactive', requirements: { disabled_reason: 'rejected.fraud' } },
      previous: { status: 'active' },
      hold: 'Stripe capability card_payments inactive (rejected.fraud)',
    },
    {
      what: 'a capability being onboarded',
      type: 'capability.updated',
      object: { id: 'card_payments', status: 'active' },
      previous: { status: 'pending' },
    },
  ];
  it.each(updates)('maps $what to a hold when it names one, and ignores it otherwise', (u) => {
    const event = stripeEvent('evt_u', u.type, u.object, {
      data: { object: u.object, previous_attributes: u.previous },
    });
    expect(mapStripeEvent(event)).toMatchObject(
      u.hold === undefined ? { kind: 'ignored' } : { kind: 'outcome', outcomeType: 'hold', notes: u.hold },
    );
  });

  it('ignores event types it does not know', () => {
    expect(mapStripeEvent(stripeEvent('evt_z', 'customer.created', { id: 'cus_1' }))).toEqual({
      kind: 'ignored',
      reason: 'PayFlux does not use customer.created events',
    });
  });

  it('maps payment events in the stored form, so their export lines splice the stored JSON', () => {
    for (const e of [piFailed(), chargeFailed(), chargeSucceeded()]) {
      const m = mapStripeEvent(e);
      if (m.kind !== 'payment') throw new Error(`${e.type} did not map to a payment event`);
      const json = JSON.stringify(m.event);
      expect(eventMembers(json, JSON.parse(json) as Record<string, unknown>), e.type).toBe(json.slice(1, -1));
    }
  });
});

describe('amountBucket', () => {
  it.each([
    [999, 'usd', 'usd:0-10'],
    [1000, 'usd', 'usd:10-50'],
    [499_999, 'usd', 'usd:1000-5000'],
    [500_000, 'USD', 'usd:5000+'],
    [4999, 'jpy', 'jpy:1000-5000'],
  ])('buckets %i %s as %s', (amount, currency, bucket) => {
    expect(amountBucket(amount, currency)).toBe(bucket);
  });
});
