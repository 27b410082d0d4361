/**
 * Realistic payment events for the benchmarks, built without per-event JSON work.
 *
 * Every event id is `evt_<tag>_<10 digits>`: fixed width, so a body is a template Buffer whose
 * id (and timestamp) bytes are overwritten in place. Building a 500-event body is then one
 * copy and a few thousand byte writes, which keeps the load generator (it shares the 2 cores
 * with PayFlux and Redis) as cheap as we can make it.
 *
 * Field order is `toPaymentEvent`'s (src/events/payment-event.ts) and absent fields are omitted, so the wire
 * JSON of one event is byte for byte what PayFlux stores in the stream's `e` field.
 */
import { randomBytes } from 'node:crypto';

export const ID_DIGITS = 10;
const ISO_LEN = 24; // 2026-01-15T09:30:00.000Z
/** The processors of the bench's events: PayFlux's default PAYFLUX_PROCESSORS, one partition each. */
export const PROCESSORS = ['stripe', 'adyen', 'checkout', 'internal'];
const FAILURES = [
  'card_declined',
  'gateway_timeout',
  'auth_failure',
  'insufficient_funds',
  'processor_unavailable',
  '3ds_failed',
];
const GEOS = ['US', 'EU-DE', 'EU-FR', 'GB', 'BR', 'IN', 'CA', 'AU'];
const AMOUNTS = ['0-10', '10-50', '50-200', '200-1000', '1000+'];
const VARIANTS = 64;

/** A short random tag that keeps ids of one benchmark section apart from every other. */
export function newTag() {
  return randomBytes(4).toString('hex');
}

export function eventIdPrefix(tag) {
  return `evt_${tag}_`;
}

function hex(n, seed) {
  let s = '';
  let x = seed * 2654435761 + 97;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += x.toString(16).padStart(8, '0');
  }
  return s.slice(0, n);
}

/**
 * The `VARIANTS` event shapes, as [before-id, between id and timestamp, after-timestamp]:
 * about 85 % successes, the rest failures with a category, spread over processors and geos.
 */
function variantParts(tag) {
  const parts = [];
  for (let v = 0; v < VARIANTS; v++) {
    const failed = v % 7 === 3 || v % 13 === 5;
    const fields = [
      ['processor', PROCESSORS[v % PROCESSORS.length]],
      ['merchant_id_hash', `m_${hex(16, v % 9)}`],
      ['payment_intent_id_hash', `pi_${hex(24, v)}`],
    ];
    if (failed) fields.push(['failure_category', FAILURES[v % FAILURES.length]]);
    fields.push(['geo_bucket', GEOS[v % GEOS.length]]);
    let tail = '';
    for (const [k, val] of fields) tail += `,${JSON.stringify(k)}:${JSON.stringify(val)}`;
    tail += `,"retry_count":${failed ? v % 4 : 0}`;
    tail += `,"amount_bucket":${JSON.stringify(AMOUNTS[v % AMOUNTS.length])},"system_source":"checkout-api","payment_method_bucket":"card"`;
    tail += `,"channel":${JSON.stringify(v % 3 === 0 ? 'mobile' : 'web')}`;
    if (failed && v % 2 === 0) tail += ',"retry_result":"pending","failure_origin":"issuer"';
    tail += '}';
    const type = failed ? 'payment_failed' : 'payment_succeeded';
    parts.push([`{"event_id":"${eventIdPrefix(tag)}`, `","event_type":"${type}","event_timestamp":"`, `"${tail}`]);
  }
  return parts;
}

function writeDigits(buf, off, n) {
  for (let i = ID_DIGITS - 1; i >= 0; i--) {
    buf[off + i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/**
 * A body template of `n` events: a JSON object when `n` is 0 (single-event route), a JSON array
 * of `n` events otherwise. `fill(firstId, iso)` returns a fresh Buffer with ids
 * firstId … firstId + count − 1 and every timestamp set to `iso`.
 * `intoShared` reuses one Buffer (safe only when the caller copies it synchronously).
 */
export function bodyTemplate(tag, n) {
  const parts = variantParts(tag);
  const count = Math.max(1, n);
  const zeros = '0'.repeat(ID_DIGITS);
  const iso0 = new Date(0).toISOString();
  const idOffsets = new Int32Array(count);
  const tsOffsets = new Int32Array(count);
  const chunks = [];
  let len = 0;
  const push = (s) => {
    chunks.push(s);
    len += Buffer.byteLength(s);
  };
  if (n > 0) push('[');
  for (let i = 0; i < count; i++) {
    if (i > 0) push(',');
    const [a, b, c] = parts[i % VARIANTS];
    push(a);
    idOffsets[i] = len;
    push(zeros);
    push(b);
    tsOffsets[i] = len;
    push(iso0);
    push(c);
  }
  if (n > 0) push(']');
  const template = Buffer.from(chunks.join(''));
  const shared = Buffer.from(template);

  const write = (buf, firstId, iso) => {
    for (let i = 0; i < count; i++) {
      writeDigits(buf, idOffsets[i], firstId + i);
      buf.write(iso, tsOffsets[i], ISO_LEN, 'latin1');
    }
    return buf;
  };
  return {
    count,
    bytes: template.length,
    fill: (firstId, iso) => write(Buffer.from(template), firstId, iso),
    intoShared: (firstId, iso) => write(shared, firstId, iso),
  };
}

/**
 * Stored-form payloads (the stream's `e` field) for ids firstId … firstId + count − 1, with
 * event times spread from `startMs` by `stepMs` (the backlog is in event-time order).
 */
export function storedPayloads(tag, firstId, count, startMs, stepMs) {
  const parts = variantParts(tag);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const [a, b, c] = parts[(firstId + i) % VARIANTS];
    out[i] =
      a +
      String(firstId + i).padStart(ID_DIGITS, '0') +
      b +
      new Date(startMs + Math.floor(i * stepMs)).toISOString() +
      c;
  }
  return out;
}
