/**
 * The payment event: its wire JSON schema, its TypeScript type, the canonical id used for dedup,
 * and the fixed-shape copy every stage carries.
 *
 * Pure module: imported by operators, so no I/O and no validator library here.
 */

export const KNOWN_EVENT_TYPES = ['payment_failed', 'payment_succeeded'] as const;

/** Optional string fields of ≤ 100 chars, in export order. */
export const OPTIONAL_STRING_FIELDS = [
  'merchant_id_hash',
  'payment_intent_id_hash',
  'failure_category',
  'amount_bucket',
  'system_source',
  'payment_method_bucket',
  'channel',
  'retry_result',
  'failure_origin',
] as const;

/** `event_id`: a UUID (which this pattern also admits) or an idempotency key such as Stripe's `evt_…`. */
export const EVENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 3339 date-time with a mandatory zone (`Z` or `±hh:mm`). Calendar validity is checked separately. */
export const RFC3339_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

/** A validated payment event as stored in the buffer. Absent optional fields are `undefined`. */
export interface PaymentEvent {
  readonly event_id: string;
  readonly event_timestamp: string;
  readonly event_type: string;
  readonly processor: string;
  readonly merchant_id_hash: string | undefined;
  readonly payment_intent_id_hash: string | undefined;
  readonly failure_category: string | undefined;
  readonly geo_bucket: string | undefined;
  readonly retry_count: number;
  readonly amount_bucket: string | undefined;
  readonly system_source: string | undefined;
  readonly payment_method_bucket: string | undefined;
  readonly channel: string | undefined;
  readonly retry_result: string | undefined;
  readonly failure_origin: string | undefined;
}

/**
 * The wire JSON schema of one event (draft-07, compiled once by Ajv in `http/`).
 * Unknown fields are allowed and ignored: they are dropped when the event is stored.
 */
export function paymentEventSchema(processors: readonly string[]) {
  const optional = Object.fromEntries(OPTIONAL_STRING_FIELDS.map((f) => [f, { type: 'string', maxLength: 100 }]));
  return {
    $id: 'PaymentEvent',
    type: 'object',
    required: ['event_id', 'event_timestamp', 'event_type', 'processor'],
    properties: {
      event_id: { type: 'string', pattern: EVENT_ID_PATTERN },
      event_timestamp: { type: 'string', maxLength: 40, pattern: RFC3339_PATTERN },
      event_type: { type: 'string', minLength: 1, maxLength: 64, pattern: '\\S' },
      processor: { type: 'string', enum: [...processors] },
      geo_bucket: { type: 'string', maxLength: 20 },
      retry_count: { type: 'integer', minimum: 0, maximum: 100 },
      ...optional,
    },
  } as const;
}

/** The canonical form used for deduplication: UUIDs are case-insensitive, other keys are not. */
export function canonicalEventId(id: string): string {
  return id.length === 36 && UUID_RE.test(id) ? id.toLowerCase() : id;
}

/**
 * Copy the known fields of an already schema-validated body into a fixed-shape event.
 * A literal, not a spread: every event has the same hidden class (see STYLE.md, hot path).
 * The field order is the export line's, so that `JSON.stringify` of the result, the
 * stored form, can be spliced into export lines verbatim (see `eventMembers`).
 */
export function toPaymentEvent(b: Record<string, unknown>): PaymentEvent {
  return {
    event_id: b.event_id as string,
    event_type: b.event_type as string,
    event_timestamp: b.event_timestamp as string,
    processor: b.processor as string,
    merchant_id_hash: b.merchant_id_hash as string | undefined,
    payment_intent_id_hash: b.payment_intent_id_hash as string | undefined,
    failure_category: b.failure_category as string | undefined,
    geo_bucket: b.geo_bucket as string | undefined,
    retry_count: (b.retry_count as number | undefined) ?? 0,
    amount_bucket: b.amount_bucket as string | undefined,
    system_source: b.system_source as string | undefined,
    payment_method_bucket: b.payment_method_bucket as string | undefined,
    channel: b.channel as string | undefined,
    retry_result: b.retry_result as string | undefined,
    failure_origin: b.failure_origin as string | undefined,
  };
}

/** The keys of the stored form, in order: `toPaymentEvent`'s, which are the export line's. */
export const STORED_KEYS: readonly string[] = [
  'event_id',
  'event_type',
  'event_timestamp',
  'processor',
  'merchant_id_hash',
  'payment_intent_id_hash',
  'failure_category',
  'geo_bucket',
  'retry_count',
  ...OPTIONAL_STRING_FIELDS.slice(3),
];
