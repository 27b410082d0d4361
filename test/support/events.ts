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

export interface TrafficOptions {
  /** Seconds of event time, ending six minutes before now. */
  readonly seconds: number;
  readonly perSecond: number;
  /** Of the pseudo-random failures: the same seed, the same traffic. */
  readonly seed: number;
  readonly idPrefix: string;
  /** The processor of a second's `k`th event. */
  readonly processorOf: (k: number) => string;
  /** How likely an event of `processor` at second `s` fails, and whether as an outage's timeout. */
  readonly failure: (processor: string, s: number) => { readonly rate: number; readonly outage: boolean };
}

/**
 * Synthetic payment traffic, 90 ms apart within a second: ids `<idPrefix>-<s>-<k>`, failures
 * card declines (an outage's: gateway timeouts) with one retry, geos US, CA, GB in turn.
 */
export function syntheticTraffic(o: TrafficOptions): Record<string, unknown>[] {
  const t0 = Date.now() - (o.seconds + 360) * 1000;
  const out: Record<string, unknown>[] = [];
  let seed = o.seed;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let s = 0; s < o.seconds; s++) {
    for (let k = 0; k < o.perSecond; k++) {
      const processor = o.processorOf(k);
      const { rate, outage } = o.failure(processor, s);
      const failed = rand() < rate;
      out.push({
        event_id: `${o.idPrefix}-${s}-${k}`,
        event_timestamp: new Date(t0 + s * 1000 + k * 90).toISOString(),
        event_type: failed ? 'payment_failed' : 'payment_succeeded',
        processor,
        failure_category: failed ? (outage ? 'gateway_timeout' : 'card_declined') : undefined,
        retry_count: failed ? 1 : 0,
        geo_bucket: ['US', 'CA', 'GB'][k % 3],
      });
    }
  }
  return out;
}
