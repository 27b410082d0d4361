/** Decoding of raw XRANGE / XREADGROUP / XAUTOCLAIM replies into `StreamEntry` values. */
import type { StreamEntry } from './buffer.js';

/** `[id, [field, value, …]]`; fields may be null for an entry deleted while pending. */
export type RawEntry = [string, string[] | null];

export function toStreamEntries(raw: readonly RawEntry[], deliveries: number): StreamEntry[] {
  const out: StreamEntry[] = new Array<StreamEntry>(raw.length);
  let n = 0;
  for (const [id, fields] of raw) {
    let payload: string | undefined;
    // Stored at the id's time (Redis's clock at the XADD); entries of older versions carry `t`.
    let ingestedAtMs = Number(id.slice(0, id.indexOf('-'))) || 0;
    if (fields !== null) {
      // Our entries are exactly ['e', payload]; look the fields up anyway so that an entry
      // written by another producer decodes (or dead-letters) instead of misreading.
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const f = fields[i];
        if (f === 'e') payload = fields[i + 1];
        else if (f === 't') ingestedAtMs = Number(fields[i + 1]) || ingestedAtMs;
      }
    }
    out[n++] = { id, payload, ingestedAtMs, deliveries };
  }
  out.length = n;
  return out;
}
