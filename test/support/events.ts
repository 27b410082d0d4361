/** Payment events for tests: free-form ones for the in-process app, typed ones with chosen ids for children. */
import { randomBytes } from 'node:crypto';

/** A valid failed Stripe payment with a random id, now; `overrides` win (one set to undefined is left out of the JSON). */
export function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `evt_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    event_timestamp: new Date().toISOString(),
    event_type: 'payment_failed',
    processor: 'stripe',
    failure_category: 'card_declined',
    merchant_id_hash: 'm_9f2c',
    geo_bucket: 'US',
    retry_count: 1,
    ...overrides,
  };
}

export interface TestEvent {
  readonly event_id: string;
  readonly event_timestamp: string;
  readonly event_type: string;
  readonly processor: string;
  readonly merchant_id_hash: string;
  readonly retry_count: number;
}

/** A failed Stripe payment with the given id, now. */
export function makeEvent(id: string): TestEvent {
  return {
    event_id: id,
    event_timestamp: new Date().toISOString(),
    event_type: 'payment_failed',
    processor: 'stripe',
    merchant_id_hash: 'm_abc',
    retry_count: 1,
  };
}

/** Unique event ids for one test: `<tag>-<n>`. */
export function idFactory(): () => string {
  const tag = `ev${randomBytes(4).toString('hex')}`;
  let n = 0;
  return () => `${tag}-${n++}`;
}
