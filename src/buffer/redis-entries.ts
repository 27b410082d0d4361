/** Decoding of raw XRANGE / XREADGROUP / XAUTOCLAIM replies into `StreamEntry` values. */
import { isAscii } from 'node:buffer';
import { streamIdMs, streamIdSeq } from '../stream-id.js';
import type { StreamEntry } from './buffer.js';

/** A bulk string as ioredis returns it: a string, or a Buffer from the `…Buffer` / `callBuffer` commands. */
export type RawText = string | Buffer;

/** `[id, [field, value, …]]`; fields may be null for an entry deleted while pending. */
export type RawEntry = [RawText, RawText[] | null];

/**
 * The text of a bulk string. The consumer's reads ask for Buffers and decode here: ioredis's
 * own conversion decodes every value as UTF-8, and stored events are nearly always ASCII, which
 * as Latin-1 is the same text for a fraction of the cost (measured: read + ack 3.1 → 1.9 µs of
 * client CPU per event).
 */
export function rawText(v: RawText): string {
  if (typeof v === 'string') return v;
  return isAscii(v) ? v.toString('latin1') : v.toString('utf8');
}

/** Whether a field name is the one-letter `name` (`e` or `t`), without decoding it. */
function isField(f: RawText | undefined, name: string): boolean {
  return typeof f === 'string' ? f === name : f !== undefined && f.length === 1 && f[0] === name.charCodeAt(0);
}

export function toStreamEntries(raw: readonly RawEntry[], deliveries: number): StreamEntry[] {
  const out: StreamEntry[] = new Array<StreamEntry>(raw.length);
  let n = 0;
  for (const [rawId, fields] of raw) {
    const id = rawText(rawId);
    let payload: string | undefined;
    const dash = id.indexOf('-');
    const idMs = streamIdMs(id, dash);
    const idSeq = idMs >= 0 ? streamIdSeq(id, dash) : -1;
    // Stored at the id's time (Redis's clock at the XADD); entries of older versions carry `t`.
    let ingestedAtMs = idMs >= 0 ? idMs : Number(id.slice(0, dash)) || 0;
    if (fields !== null) {
      // Our entries are exactly ['e', payload]; look the fields up anyway so that an entry
      // written by another producer decodes (or dead-letters) instead of misreading.
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const f = fields[i];
        const v = fields[i + 1] as RawText;
        if (isField(f, 'e')) payload = rawText(v);
        else if (isField(f, 't')) ingestedAtMs = Number(rawText(v)) || ingestedAtMs;
      }
    }
    out[n++] = { id, idMs, idSeq, payload, ingestedAtMs, deliveries };
  }
  out.length = n;
  return out;
}
