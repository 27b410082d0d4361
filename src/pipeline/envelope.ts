/**
 * `envelope()`: an `Envelope` for an event of your own, for pipelines built on the library's
 * operators (`payflux/operators`). The consumer builds its envelopes in `decodeEntries`.
 */
import type { PaymentEvent } from '../events/payment-event.js';
import { parseEventTime } from '../events/event-time.js';
import { streamIdIndex, streamIdMs, streamIdSeq } from '../stream-id.js';
import type { Envelope } from './types.js';

export interface EnvelopeOptions {
  /** When the event was stored (epoch ms), for end-to-end latency; 0 (unknown) by default. */
  readonly ingestedAtMs?: number;
  /** How many times it has been delivered; 1 by default. */
  readonly deliveries?: number;
}

/**
 * The envelope of `event` at position `id` of your source.
 *
 * `id` orders envelopes the way Redis stream ids do (`<ms>-<seq>`, e.g. `0-41` for the 42nd
 * line of a file): the risk window treats an id at or below the highest it has counted as a
 * possible redelivery, so ids must grow along the stream, and the same id means the same event.
 * `eventTimeMs` is read from `event_timestamp` (NaN when it is not a date: validate events
 * first, e.g. with `createEventValidator`). `eventJson` is undefined, so export lines serialise
 * `event`. The literal has every field in the order `decodeEntries` writes them: both kinds of
 * envelope share one hidden class.
 */
export function envelope(id: string, event: PaymentEvent, o: EnvelopeOptions = {}): Envelope {
  const dash = id.indexOf('-');
  const idMs = streamIdMs(id, dash);
  return {
    id,
    idMs,
    idSeq: idMs >= 0 ? streamIdSeq(id, dash) : -1,
    idIndex: streamIdIndex(id),
    event,
    eventJson: undefined,
    eventTimeMs: parseEventTime(event.event_timestamp),
    ingestedAtMs: o.ingestedAtMs ?? 0,
    deliveries: o.deliveries ?? 1,
    risk: undefined,
    tier: undefined,
  };
}
