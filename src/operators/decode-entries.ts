/**
 * `decodeEntries`: raw stream entries → a `Batch` of envelopes and dead letters.
 *
 * Emits one Batch per input array, in order; completes and errors with its source. An entry
 * that cannot be decoded, or that has been delivered more than `maxDeliveries` times, becomes
 * a dead letter (a value, never an exception: one poison entry must not end the stream).
 */
import { map, type OperatorFunction } from 'rxjs';
import { eventMembers } from '../events/stored-form.js';
import { OPTIONAL_STRING_FIELDS, toPaymentEvent } from '../events/payment-event.js';
import { parseEventTime } from '../events/event-time.js';
import type { Batch, DeadLetter, Envelope } from '../pipeline/types.js';
import { streamIdMs, streamIdSeq } from '../stream-id.js';

/** What a source hands over: the stored payload and its delivery bookkeeping. */
export interface EncodedEntry {
  readonly id: string;
  readonly payload: string | undefined;
  readonly ingestedAtMs: number;
  readonly deliveries: number;
  /** The id's numbers, when the source read them (the Redis reader does); else decode reads them. */
  readonly idMs?: number;
  readonly idSeq?: number;
}

export interface DecodeOptions {
  readonly maxDeliveries: number;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Decode one stored payload; undefined when it is not a usable event. */
export function decodeEnvelope(e: EncodedEntry): Envelope | undefined {
  if (e.payload === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(e.payload);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  if (!isString(o.event_id) || !isString(o.event_timestamp) || !isString(o.processor) || !isString(o.event_type))
    return undefined;
  const retry = o.retry_count;
  if (retry !== undefined && !(Number.isInteger(retry) && (retry as number) >= 0 && (retry as number) <= 100))
    return undefined;
  const eventJson = eventMembers(e.payload, o);
  // eventMembers has checked every value's type when it found members to splice; otherwise
  // check here: a number where a string belongs would throw in the stages and end the stream.
  if (eventJson === undefined && !optionalFieldsAreStrings(o)) return undefined;
  const eventTimeMs = parseEventTime(o.event_timestamp);
  if (Number.isNaN(eventTimeMs)) return undefined;
  let idMs = e.idMs;
  let idSeq = e.idSeq;
  if (idMs === undefined || idSeq === undefined) {
    const dash = e.id.indexOf('-');
    idMs = streamIdMs(e.id, dash);
    idSeq = idMs >= 0 ? streamIdSeq(e.id, dash) : -1;
  }
  return {
    id: e.id,
    idMs,
    idSeq,
    event: toPaymentEvent(o),
    eventJson,
    eventTimeMs,
    ingestedAtMs: e.ingestedAtMs,
    deliveries: e.deliveries,
    risk: undefined,
    tier: undefined,
  };
}

const OPTIONAL_FIELDS: readonly string[] = [...OPTIONAL_STRING_FIELDS, 'geo_bucket'];

function optionalFieldsAreStrings(o: Record<string, unknown>): boolean {
  for (const f of OPTIONAL_FIELDS) if (o[f] !== undefined && typeof o[f] !== 'string') return false;
  return true;
}

export function decodeEntries(o: DecodeOptions): OperatorFunction<readonly EncodedEntry[], Batch> {
  return map((raw) => decodeBatch(raw, o));
}

/** One read's entries as a Batch: what `decodeEntries` emits for each input array. */
export function decodeBatch(raw: readonly EncodedEntry[], o: DecodeOptions): Batch {
  const entries: Envelope[] = [];
  const dead: DeadLetter[] = [];
  const ackIds: string[] = [];
  for (const e of raw) {
    if (e.deliveries > o.maxDeliveries) {
      dead.push({ id: e.id, data: e.payload, reason: 'max_deliveries' });
      continue;
    }
    const env = decodeEnvelope(e);
    if (env === undefined) {
      dead.push({ id: e.id, data: e.payload, reason: 'decode_error' });
      continue;
    }
    entries.push(env);
    ackIds.push(e.id);
  }
  return { entries, dead, ackIds };
}
