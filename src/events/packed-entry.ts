/**
 * The stream entry format, for PayFlux and for any other reader of the stream.
 *
 * An entry has one field, `e`: one or more events in their stored form (compact JSON, one
 * object each), joined by `\n`. Compact JSON never holds a raw newline (JSON escapes it inside
 * strings), so the newline is an unambiguous separator. One event per entry is the same text as
 * a single stored event. An entry is packed when its value contains `}\n{`, which no single
 * JSON text can (a raw newline inside a string is not JSON, and between values JSON needs a
 * comma): so an event another producer wrote as indented JSON stays one event.
 *
 * Why several events an entry: one XADD per append call instead of one per event cuts Redis's
 * work per event by about half and the consumer's read and ack by ~10× (docs/decisions.md,
 * *Packed entries*). Why the same field: a reader that does not split (an older PayFlux) fails
 * to parse a packed entry and dead-letters it whole, and `payflux dlq replay` puts it back for a
 * newer one, so nothing is lost in a rolling upgrade.
 *
 * Each event is addressed as `<entry-id>/<index>` (index from 0) when its entry carries several,
 * and as `<entry-id>` alone when it carries one: that is the export line's `stream_message_id`.
 * Both order totally: by entry id (stream order), then by index.
 */

/** Joins stored events into one entry's `e` value. */
export function packEvents(events: readonly string[]): string {
  return events.length === 1 ? (events[0] as string) : events.join('\n');
}

/** Whether an entry's `e` value carries several events. */
export function isPacked(payload: string): boolean {
  return payload.indexOf('}\n{') >= 0;
}

/** Splits an entry's `e` value into its events' stored forms, in order (one when it is not packed). */
export function unpackEntry(payload: string): string[] {
  return isPacked(payload) ? payload.split('\n') : [payload];
}

/** The address of the event at `index` of an entry carrying `count` events (`stream_message_id`). */
export function packedEventId(entryId: string, index: number, count: number): string {
  return count === 1 ? entryId : `${entryId}/${index}`;
}

/** The entry id of an event's address: `1700000000000-0/3` → `1700000000000-0`. */
export function entryIdOf(eventId: string): string {
  const slash = eventId.indexOf('/');
  return slash < 0 ? eventId : eventId.slice(0, slash);
}
