/**
 * The export line: one JSON object per event, serialised by a precompiled
 * fast-json-stringify schema. Field order is the contract's: identity, event fields, stream
 * bookkeeping, then risk and tier fields. Absent optional fields are omitted.
 */
import fastJson from 'fast-json-stringify';
import { OPTIONAL_STRING_FIELDS } from '../events/payment-event.js';
import type { Envelope, RiskAssessment, TierContext } from '../pipeline/types.js';

export const SCHEMA_VERSION = '1.0';

const str = { type: 'string' } as const;

const schema = {
  title: 'PaymentEventExport',
  type: 'object',
  // No `required`: fast-json-stringify writes required properties first, which would break
  // the contract's field order. The literal below always sets the mandatory ones.
  properties: {
    type: str,
    schema_version: str,
    event_id: str,
    event_type: str,
    event_timestamp: str,
    processor: str,
    merchant_id_hash: str,
    payment_intent_id_hash: str,
    failure_category: str,
    geo_bucket: str,
    retry_count: { type: 'integer' },
    ...Object.fromEntries(
      OPTIONAL_STRING_FIELDS.filter(
        (f) => !['merchant_id_hash', 'payment_intent_id_hash', 'failure_category'].includes(f),
      ).map((f) => [f, str]),
    ),
    stream_message_id: str,
    consumer_name: str,
    processed_at: str,
    processor_risk_score: { type: 'number' },
    processor_risk_band: str,
    processor_risk_drivers: { type: 'array', items: str },
    // The segment a concentration driver names: one event field and its value.
    processor_risk_focus: { type: 'object', additionalProperties: str },
    processor_playbook_context: str,
    risk_trajectory: str,
  },
} as const;

/** The trailing risk and tier members, serialised once per assessment (see below). */
const riskSchema = {
  title: 'PaymentEventExportRisk',
  type: 'object',
  properties: {
    processor_risk_score: schema.properties.processor_risk_score,
    processor_risk_band: str,
    processor_risk_drivers: schema.properties.processor_risk_drivers,
    processor_risk_focus: schema.properties.processor_risk_focus,
    processor_playbook_context: str,
    risk_trajectory: str,
  },
} as const;

const HEAD = `{"type":"payment_event","schema_version":"${SCHEMA_VERSION}",`;
const STREAM_ID_KEY = ',"stream_message_id":';
const HEAD_BYTES = Buffer.from(HEAD);
const STREAM_ID_OPEN = Buffer.from(`${STREAM_ID_KEY}"`);

/** Serialise envelopes of one batch into newline-terminated lines (one string per batch). */
export type LineSerializer = (entries: readonly Envelope[], processedAt: string) => string;

/**
 * The same lines as UTF-8 bytes, in one of two buffers the encoder owns and takes turns with:
 * a batch's bytes stay as they are through the next call and are overwritten by the one after.
 * So one write may be in flight while the next batch is encoded, never two.
 */
export type LineEncoder = (entries: readonly Envelope[], processedAt: string) => Buffer;

export function createLineSerializer(consumerName: string): LineSerializer {
  const parts = createLineParts(consumerName);
  return (entries, processedAt) => {
    const bookkeeping = bookkeepingOf(consumerName, processedAt);
    let out = '';
    for (const env of entries) {
      if (env.eventJson === undefined) out += parts.serialised(env, processedAt);
      else
        out += `${HEAD}${env.eventJson}${STREAM_ID_KEY}${JSON.stringify(env.id)}${bookkeeping}${parts.tail(env.risk, env.tier).text}`;
    }
    return out;
  };
}

/**
 * Why bytes, and why one reused buffer: writing a batch as one string cost 1.1 µs per line
 * (measured, 500 lines of 650 bytes): every write first flattens the batch's rope of pieces
 * into a new string, then `Buffer.from` counts its UTF-8 bytes in one pass, allocates (fresh
 * pages, faulted in) and encodes in another. Two buffers let `payflux backtest` encode a batch
 * while the previous one is written; the exporter waits for each write anyway (ack after
 * export), so there the second one only costs memory. Each grows to the largest batch encoded
 * and stays that size (500 lines of at most ~2.5 KB each, 3 bytes a character at worst: under
 * 4 MiB).
 *
 * Why piece by piece: a spliced line written as one string is a rope (head, stored members,
 * id, bookkeeping, risk) that `write` first flattens into a fresh ~800-byte string. Writing
 * the pieces one after the other, the constant ones and the per-batch and per-assessment ones
 * as bytes made once, allocates nothing per line: 0.45–0.74 → 0.33 µs a line (microbenchmark,
 * 784-byte lines), and in the drain the flattening was a quarter of everything the consumer
 * allocated (sampled), each allocation a step towards the next scavenge.
 *
 * A write counts as done when its callback runs: right for files, process.stdout and sockets,
 * not for a stream that keeps the chunk after calling back (a PassThrough read later). Give
 * such a stream a copy.
 */
export function createLineEncoder(consumerName: string): LineEncoder {
  const parts = createLineParts(consumerName);
  const buffers = [Buffer.allocUnsafeSlow(1 << 20), Buffer.allocUnsafeSlow(1 << 20)];
  let turn = 0;
  const grow = (scratch: Buffer, used: number, needed: number): Buffer => {
    const grown = Buffer.allocUnsafeSlow(Math.max(2 * scratch.length, needed));
    scratch.copy(grown, 0, 0, used);
    buffers[turn] = grown;
    return grown;
  };
  return (entries, processedAt) => {
    // Starts with the quote that closes the stream id (see below).
    const bookkeeping = Buffer.from(`"${bookkeepingOf(consumerName, processedAt)}`);
    turn ^= 1;
    let scratch = buffers[turn] as Buffer;
    let at = 0;
    for (const env of entries) {
      const json = env.eventJson;
      if (json === undefined) {
        const text = parts.serialised(env, processedAt);
        // A UTF-16 code unit takes at most 3 bytes of UTF-8.
        if (at + 3 * text.length > scratch.length) scratch = grow(scratch, at, at + 3 * text.length);
        at += scratch.write(text, at);
        continue;
      }
      const tail = parts.tailBytes(env.risk, env.tier);
      // The id goes between quotes as it is when it needs no escaping (a stream id always), else
      // as the inside of its JSON string (escapes are ASCII: still ≤ 3 bytes a code unit).
      const id = plainId(env.id) ? env.id : JSON.stringify(env.id).slice(1, -1);
      const bound =
        at +
        HEAD_BYTES.length +
        3 * json.length +
        STREAM_ID_OPEN.length +
        3 * id.length +
        bookkeeping.length +
        tail.length;
      if (bound > scratch.length) scratch = grow(scratch, at, bound);
      at += HEAD_BYTES.copy(scratch, at);
      at += scratch.write(json, at);
      at += STREAM_ID_OPEN.copy(scratch, at);
      at += scratch.write(id, at);
      at += bookkeeping.copy(scratch, at);
      at += tail.copy(scratch, at);
    }
    return scratch.subarray(0, at);
  };
}

/** Whether `id` needs no escaping in a JSON string: printable ASCII other than `"` and `\`. */
function plainId(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function bookkeepingOf(consumerName: string, processedAt: string): string {
  return `,"consumer_name":${JSON.stringify(consumerName)},"processed_at":${JSON.stringify(processedAt)}`;
}

/**
 * The end of a spliced line after the bookkeeping: risk and tier members, `}` and the newline;
 * its UTF-8 bytes made on the encoder's first use, in memory of their own (a small
 * `Buffer.from` takes a slice of a shared 8 KiB pool, and a cached tail would keep it alive).
 */
interface LineTail {
  readonly text: string;
  bytes: Buffer | undefined;
}

/**
 * One export line's parts, two ways, byte for byte the same for a stored-form event (a test
 * pins it):
 *
 * - spliced: the event's stored JSON members (`envelope.eventJson`) between a constant head
 *   and the bookkeeping and risk members. The risk members depend only on the assessment and
 *   tier context, which the scorer shares between events scored alike, so they are serialised
 *   (and encoded) once per assessment. Measured on the drain benchmark: re-serialising the
 *   event was the largest single cost after parsing it.
 * - serialised: the whole record through the precompiled schema, for events whose stored form
 *   cannot be spliced (older entries, other producers).
 */
function createLineParts(consumerName: string): {
  tail(r: RiskAssessment | undefined, t: TierContext | undefined): LineTail;
  tailBytes(r: RiskAssessment | undefined, t: TierContext | undefined): Buffer;
  serialised(env: Envelope, processedAt: string): string;
} {
  const stringify = fastJson(schema);
  const stringifyRisk: (risk: Record<string, unknown>) => string = fastJson(riskSchema);
  const lineTail = (members: string): LineTail => ({ text: `${members}}\n`, bytes: undefined });
  const bare = lineTail('');
  // Keyed by the assessment object; the tier context is compared by identity. A WeakMap: it
  // lives as long as the scorer's own caches keep the assessments, no bound of its own needed.
  const byRisk = new WeakMap<RiskAssessment, { tier: TierContext | undefined; tail: LineTail }>();

  const tail = (r: RiskAssessment | undefined, t: TierContext | undefined): LineTail => {
    // A tier context without an assessment is not something the stages make; not cached.
    if (r === undefined)
      return t === undefined
        ? bare
        : lineTail(
            membersOf(
              stringifyRisk({ processor_playbook_context: t.playbookContext, risk_trajectory: t.riskTrajectory }),
            ),
          );
    const hit = byRisk.get(r);
    if (hit !== undefined && hit.tier === t) return hit.tail;
    const made = lineTail(
      membersOf(
        stringifyRisk({
          processor_risk_score: r.score,
          processor_risk_band: r.band,
          processor_risk_drivers: r.drivers,
          processor_risk_focus: r.focus,
          processor_playbook_context: t?.playbookContext,
          risk_trajectory: t?.riskTrajectory,
        }),
      ),
    );
    byRisk.set(r, { tier: t, tail: made });
    return made;
  };

  const serialised = (env: Envelope, processedAt: string): string => {
    const e = env.event;
    const r = env.risk;
    const t = env.tier;
    // A fixed-shape literal per event: every record shares one hidden class (STYLE.md).
    return (
      stringify({
        type: 'payment_event',
        schema_version: SCHEMA_VERSION,
        event_id: e.event_id,
        event_type: e.event_type,
        event_timestamp: e.event_timestamp,
        processor: e.processor,
        merchant_id_hash: e.merchant_id_hash,
        payment_intent_id_hash: e.payment_intent_id_hash,
        failure_category: e.failure_category,
        geo_bucket: e.geo_bucket,
        retry_count: e.retry_count,
        amount_bucket: e.amount_bucket,
        system_source: e.system_source,
        payment_method_bucket: e.payment_method_bucket,
        channel: e.channel,
        retry_result: e.retry_result,
        failure_origin: e.failure_origin,
        stream_message_id: env.id,
        consumer_name: consumerName,
        processed_at: processedAt,
        processor_risk_score: r?.score,
        processor_risk_band: r?.band,
        processor_risk_drivers: r?.drivers,
        processor_risk_focus: r?.focus,
        processor_playbook_context: t?.playbookContext,
        risk_trajectory: t?.riskTrajectory,
      }) + '\n'
    );
  };

  const tailBytes = (r: RiskAssessment | undefined, t: TierContext | undefined): Buffer => {
    const made = tail(r, t);
    if (made.bytes === undefined) {
      made.bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(made.text));
      made.bytes.write(made.text);
    }
    return made.bytes;
  };

  return { tail, tailBytes, serialised };
}

/** `{"a":1,"b":2}` → `,"a":1,"b":2`; `{}` → ``. */
function membersOf(objectJson: string): string {
  return objectJson.length <= 2 ? '' : `,${objectJson.slice(1, -1)}`;
}

/** Every member an export line may carry, in the line's order (deploy configs are checked against it). */
export const EXPORT_LINE_FIELDS: readonly string[] = Object.keys(schema.properties);
