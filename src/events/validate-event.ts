/**
 * Validation of one event body: the JSON schema compiled once by Ajv, then the time rules a
 * schema cannot express. Every failure names the field and the rule it broke.
 *
 * Any real past time is accepted (a producer replaying history): the raw-event retention says
 * how long entries stay in the stream, not what may enter it, and an event older than the risk
 * window is counted late there, not refused here. Only the future is bounded, by the clock skew.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { PayFluxError } from '../errors.js';
import { isCalendarTime, parseEventTime } from './event-time.js';
import { paymentEventSchema, toPaymentEvent, type PaymentEvent } from './payment-event.js';

export type Validation =
  | { readonly ok: true; readonly event: PaymentEvent; readonly eventTimeMs: number }
  | { readonly ok: false; readonly error: PayFluxError };

export interface EventValidatorOptions {
  readonly processors: readonly string[];
  readonly maxClockSkewSec: number;
}

export type EventValidator = (body: unknown, nowMs: number) => Validation;

const RULES: Readonly<Record<string, string>> = {
  event_id: 'must be a UUID or an idempotency key matching ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$',
  event_timestamp:
    'must be an RFC 3339 timestamp with a zone, of a date and time that exist, e.g. 2026-01-15T09:30:00Z',
  event_type: 'must be a non-blank string of at most 64 characters',
  retry_count: 'must be an integer from 0 to 100',
};

export function createEventValidator(o: EventValidatorOptions): EventValidator {
  // allErrors off: the first problem is enough to answer, and stopping early is cheaper.
  const options = { allErrors: false, coerceTypes: false, useDefaults: false, strict: true };
  const schema = paymentEventSchema(o.processors);
  const check = new Ajv(options).compile<Record<string, unknown>>(schema);
  // Ajv counts string lengths in code points by walking every string (a seventh of
  // validation's time, profiled). The quick check is the schema without length limits, then
  // each limit by `.length` (UTF-16 units): a string of n units has at most n and at least
  // ⌈n/2⌉ code points, so it accepts only bodies the exact check accepts. The exact check
  // decides, and names the error, for whatever the quick one refuses.
  const limits: { field: string; min: number; max: number }[] = [];
  const properties: Record<string, object> = {};
  for (const [field, rule] of Object.entries(schema.properties)) {
    const { minLength, maxLength, ...rest } = rule as { minLength?: number; maxLength?: number };
    if (minLength !== undefined || maxLength !== undefined)
      limits.push({ field, min: minLength ?? 0, max: maxLength ?? Infinity });
    properties[field] = rest;
  }
  const unlimited = new Ajv(options).compile<Record<string, unknown>>({ ...schema, properties });
  const quick = (body: unknown): body is Record<string, unknown> => {
    if (!unlimited(body)) return false;
    for (const { field, min, max } of limits) {
      const v = body[field];
      if (typeof v === 'string' && (v.length > max || Math.ceil(v.length / 2) < min)) return false;
    }
    return true;
  };
  const processorRule = `must be one of ${o.processors.join(', ')}`;
  const skewMs = o.maxClockSkewSec * 1000;

  const fail = (field: string | undefined, message: string): Validation => ({
    ok: false,
    error: new PayFluxError('PF_ERR_VALIDATION', message, { field }),
  });

  const describe = (e: ErrorObject): Validation => {
    if (e.instancePath === '') {
      if (e.keyword === 'required') {
        const field = String((e.params as { missingProperty: string }).missingProperty);
        return fail(field, `${field} is required`);
      }
      return fail(undefined, 'the event must be a JSON object');
    }
    const field = e.instancePath.slice(1).split('/')[0] ?? '';
    if (field === 'processor') return fail(field, `processor ${processorRule}`);
    const rule = RULES[field];
    if (rule !== undefined) return fail(field, `${field} ${rule}`);
    if (e.keyword === 'maxLength')
      return fail(
        field,
        `${field} must be a string of at most ${String((e.params as { limit: number }).limit)} characters`,
      );
    return fail(field, `${field} must be a string`);
  };

  return (body, nowMs) => {
    if (!quick(body) && !check(body)) {
      const first = check.errors?.[0];
      return first === undefined ? fail(undefined, 'the event is invalid') : describe(first);
    }
    const event = toPaymentEvent(body);
    const eventTimeMs = parseEventTime(event.event_timestamp);
    if (Number.isNaN(eventTimeMs) || !isCalendarTime(event.event_timestamp))
      return fail('event_timestamp', `event_timestamp ${RULES.event_timestamp ?? ''}`);
    if (eventTimeMs - nowMs > skewMs) {
      return fail(
        'event_timestamp',
        `event_timestamp must not be more than ${o.maxClockSkewSec}s in the future (PAYFLUX_MAX_CLOCK_SKEW_SEC)`,
      );
    }
    return { ok: true, event, eventTimeMs };
  };
}
