/** Envelope builders for operator tests and the scenario suite. */
import { toPaymentEvent, type PaymentEvent } from '../../../src/events/payment-event.js';
import type { Batch, Envelope } from '../../../src/pipeline/types.js';
import type { WindowEntry } from '../../../src/operators/risk/risk-window.js';

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

export interface EventSpec {
  readonly at: number;
  readonly processor?: string;
  readonly failed?: boolean;
  readonly category?: string;
  readonly retries?: number;
  readonly geo?: string;
  readonly merchant?: string;
  /** `payment_method_bucket`. */
  readonly method?: string;
  readonly id?: string;
  readonly deliveries?: number;
  /** `event_timestamp` when already formatted (the scenario generator caches it). */
  readonly timestamp?: string;
}

let seq = 0;
let eventSeq = 0;

/** A stream id that grows with every call, like XADD's. */
export function nextStreamId(ms: number = T0): string {
  return `${ms}-${seq++}`;
}

export function paymentEvent(s: EventSpec): PaymentEvent {
  const failed = s.failed ?? s.category !== undefined;
  return toPaymentEvent({
    // Unique per event, also when the caller names the stream id.
    event_id: `evt_${eventSeq++}`,
    event_timestamp: s.timestamp ?? new Date(s.at).toISOString(),
    event_type: failed ? 'payment_failed' : 'payment_succeeded',
    processor: s.processor ?? 'stripe',
    merchant_id_hash: s.merchant,
    failure_category: s.category,
    geo_bucket: s.geo,
    retry_count: s.retries,
    payment_method_bucket: s.method,
  });
}

export function envelope(s: EventSpec): Envelope {
  return {
    id: s.id ?? nextStreamId(),
    event: paymentEvent(s),
    eventJson: undefined,
    eventTimeMs: s.at,
    ingestedAtMs: s.at,
    deliveries: s.deliveries ?? 1,
    risk: undefined,
    tier: undefined,
  };
}

/**
 * An entry as `RiskWindow.add` reads it, at `at` (any number, unlike `envelope`: the window's own
 * guards against what decode never hands over are tested too), with a fresh stream id.
 */
export function windowEntry(
  at: number,
  o: Pick<EventSpec, 'processor' | 'retries' | 'geo' | 'merchant' | 'category' | 'method' | 'id'> & {
    readonly channel?: string;
  } = {},
): WindowEntry {
  return {
    id: o.id ?? nextStreamId(),
    eventTimeMs: at,
    event: {
      processor: o.processor ?? 'stripe',
      retry_count: o.retries ?? 0,
      geo_bucket: o.geo,
      merchant_id_hash: o.merchant,
      failure_category: o.category,
      payment_method_bucket: o.method,
      channel: o.channel,
    },
  };
}

/** A redelivery of `e`: same entry, fresh envelope, one more delivery. */
export function redelivered(e: Envelope): Envelope {
  return {
    id: e.id,
    event: e.event,
    eventJson: e.eventJson,
    eventTimeMs: e.eventTimeMs,
    ingestedAtMs: e.ingestedAtMs,
    deliveries: e.deliveries + 1,
    risk: undefined,
    tier: undefined,
  };
}

export function batchOf(entries: readonly Envelope[]): Batch {
  return { entries, dead: [], ackIds: entries.map((e) => e.id) };
}

/** `count` events spread evenly over bucket `bucket` (10 s each, counted from T0). */
export function inBucket(
  bucket: number,
  count: number,
  spec: Omit<EventSpec, 'at'> = {},
  startMs: number = T0,
): Envelope[] {
  return Array.from({ length: count }, (_, i) =>
    envelope({ ...spec, at: startMs + bucket * 10_000 + Math.floor((i * 9_000) / Math.max(1, count)) }),
  );
}
