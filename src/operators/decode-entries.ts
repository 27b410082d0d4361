/**
 * `decodeEntries`: raw stream entries → a `Batch` of envelopes and dead letters.
 *
 * Emits one Batch per input array, in order; completes and errors with its source. A packed
 * entry (events/packed-entry.ts) becomes one envelope per event, addressed `<entry-id>/<index>`.
 * An event that cannot be decoded, or whose entry has been delivered more than `maxDeliveries`
 * times, becomes a dead letter of its own (a value, never an exception: one poison event must
 * neither end the stream nor take the other events of its entry with it). `ackIds` holds each
 * entry id once.
 */
import { map, type OperatorFunction } from 'rxjs';
import { eventMembers } from '../events/stored-form.js';
import { isPacked, packedEventId, unpackEntry } from '../events/packed-entry.js';
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

/** Decode one stored event (an entry carrying one event); undefined when it is not a usable event. */
export function decodeEnvelope(e: EncodedEntry): Envelope | undefined {
  if (e.payload === undefined) return undefined;
  const [idMs, idSeq] = idPartsOf(e);
  return decodeEvent(e.payload, e.id, idMs, idSeq, -1, e);
}

/** The entry id's milliseconds and sequence: the source's, or read from the id (-1 when unparsable). */
function idPartsOf(e: EncodedEntry): readonly [ms: number, seq: number] {
  if (e.idMs !== undefined && e.idSeq !== undefined) return [e.idMs, e.idSeq];
  const dash = e.id.indexOf('-');
  const ms = streamIdMs(e.id, dash);
  return [ms, ms >= 0 ? streamIdSeq(e.id, dash) : -1];
}

function decodeEvent(
  text: string,
  id: string,
  idMs: number,
  idSeq: number,
  idIndex: number,
  e: EncodedEntry,
): Envelope | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
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
  const eventJson = eventMembers(text, o);
  // eventMembers has checked every value's type when it found members to splice; otherwise
  // check here: a number where a string belongs would throw in the stages and end the stream.
  if (eventJson === undefined && !optionalFieldsAreStrings(o)) return undefined;
  const eventTimeMs = parseEventTime(o.event_timestamp);
  if (Number.isNaN(eventTimeMs)) return undefined;
  return {
    id,
    idMs,
    idSeq,
    idIndex,
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
    const payload = e.payload;
    const expired = e.deliveries > o.maxDeliveries;
    if (payload === undefined || !isPacked(payload)) {
      const env = expired ? undefined : decodeEnvelope(e);
      if (env === undefined)
        dead.push({ id: e.id, entryId: e.id, data: payload, reason: expired ? 'max_deliveries' : 'decode_error' });
      else {
        entries.push(env);
        ackIds.push(e.id);
      }
      continue;
    }
    const [idMs, idSeq] = idPartsOf(e);
    const events = unpackEntry(payload);
    let decoded = false;
    for (let i = 0; i < events.length; i++) {
      const text = events[i] as string;
      const id = packedEventId(e.id, i, events.length);
      const env = expired ? undefined : decodeEvent(text, id, idMs, idSeq, i, e);
      if (env === undefined) {
        dead.push({ id, entryId: e.id, data: text, reason: expired ? 'max_deliveries' : 'decode_error' });
        continue;
      }
      entries.push(env);
      decoded = true;
    }
    if (decoded) ackIds.push(e.id);
  }
  return { entries, dead, ackIds };
}
