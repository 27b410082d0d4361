/**
 * The stored form of an event, `JSON.stringify(toPaymentEvent(…))`, and how to recognise it in
 * text without serialising again: export lines splice it verbatim, and the backtest reads events
 * straight out of it.
 */
import { digitsAt } from './event-time.js';
import { STORED_KEYS, type PaymentEvent } from './payment-event.js';

/** Characters each known key adds to the stored form besides its value: `"key":`, a comma, a string's two quotes. */
const KEY_COST: readonly number[] = STORED_KEYS.map((k) => k.length + 4 + (k === 'retry_count' ? 0 : 2));

/**
 * The members of `json` (the text between its braces) when they can be spliced verbatim into an
 * export line in place of serialising `parsed` (what `json` parsed to) again; else undefined.
 *
 * That holds for the stored form, `JSON.stringify(toPaymentEvent(…))`, byte for byte: known keys
 * only, in the export's order, every value a string except `retry_count` (present, an integer
 * written as JSON.stringify writes it), each key once, and no line break anywhere (an export
 * line is one line). Anything else — unknown, reordered or repeated keys (JSON.parse keeps the
 * last of a repeated key, the text would keep both), `1e1` for 10, a missing `retry_count`,
 * entries of an older version — returns undefined and takes the serializer. Text that differs
 * from the stored form only by whitespace between tokens is either spliced as it is (the same
 * JSON) or serialised.
 * Callers have already checked the four required fields.
 *
 * How, cheaply: the key walk checks names, order and types and adds up the length the stored
 * form of `parsed` has when nothing needs escaping. Text without a backslash that is exactly that
 * long, and writes `retry_count` once and as digits, *is* the stored form: whitespace or a
 * repeated key would make it longer, and only the number has shorter spellings (`1e3` for
 * 1000), which the digit check rules out. That is one pass over about fifteen keys. Only text
 * with escapes, or not exactly the stored form, takes the scan for quotes (ten times the cost,
 * measured). (A raw lone surrogate, which JSON.stringify would escape, passes as it is: no
 * decoder PayFlux reads through, UTF-8 or Latin-1, can produce one.)
 *
 * Why: re-serialising was about a fifth of the consumer's CPU per event.
 */
export function eventMembers(json: string, parsed: Record<string, unknown>): string | undefined {
  const walked = walkStoredForm(json, parsed, undefined, 0);
  if (walked === STORED_FORM) return json.slice(1, -1);
  return walked === NOT_AN_EVENT ? undefined : escapedMembers(json, parsed.retry_count as number, walked);
}

/**
 * Whether `json` is byte for byte `JSON.stringify(toPaymentEvent(parsed))`, `parsed` being what
 * `json` parsed to: the proof of `eventMembers`, without escapes (text with a backslash is
 * answered false, even when it would match).
 */
export function isStoredForm(json: string, parsed: Readonly<Record<string, unknown>>): boolean {
  return walkStoredForm(json, parsed, undefined, 0) === STORED_FORM;
}

/** Slots per event in the spans `storedFormSpans` writes: a start and an end for each stored key. */
export const STORED_FORM_SPAN_SLOTS = 2 * STORED_KEYS.length;

/**
 * Whether `json` is byte for byte the stored form of `parsed`, with no escapes — what `payflux
 * backtest` can take as the JSON ingest would have written, without writing it again. If so,
 * where each value is:
 * `spans[at + 2k]` and `spans[at + 2k + 1]` bound the k-th stored key's value (a string's
 * characters between its quotes, `retry_count`'s digits), both -1 when the event lacks it.
 * With no escape in the text, those characters are the values themselves (`eventFromSpans`).
 *
 * `parsed` is what `json` parsed to, whose keys come in the text's order: the walk checks that
 * order. Given the event made of it instead (`toPaymentEvent` order), only lengths are
 * compared, and a text with two keys swapped would pass: do that only for text that is the
 * event's own `JSON.stringify`.
 */
export function storedFormSpans(
  json: string,
  parsed: Readonly<Record<string, unknown>> | PaymentEvent,
  spans: Int32Array,
  at: number,
): boolean {
  spans.fill(-1, at, at + STORED_FORM_SPAN_SLOTS);
  return walkStoredForm(json, parsed as Readonly<Record<string, unknown>>, spans, at) === STORED_FORM;
}

/** The event whose stored form is `json`, from the spans `storedFormSpans` found in it. */
export function eventFromSpans(json: string, spans: Int32Array, at: number): PaymentEvent {
  const v = (k: number): string | undefined => {
    const from = spans[at + 2 * k] ?? -1;
    return from === -1 ? undefined : json.slice(from, spans[at + 2 * k + 1]);
  };
  const retryFrom = spans[at + RETRY_SLOT] ?? 0;
  const retry = digitsAt(json, retryFrom, (spans[at + RETRY_SLOT + 1] ?? 0) - retryFrom);
  // Key order and shape as `toPaymentEvent`, k as in STORED_KEYS: every event shares one hidden class.
  return {
    event_id: v(0) as string,
    event_type: v(1) as string,
    event_timestamp: v(2) as string,
    processor: v(3) as string,
    merchant_id_hash: v(4),
    payment_intent_id_hash: v(5),
    failure_category: v(6),
    geo_bucket: v(7),
    retry_count: retry,
    amount_bucket: v(9),
    system_source: v(10),
    payment_method_bucket: v(11),
    channel: v(12),
    retry_result: v(13),
    failure_origin: v(14),
  };
}

const RETRY_SLOT = 2 * STORED_KEYS.indexOf('retry_count');

/** `walkStoredForm`'s answers besides a count of members: */
const STORED_FORM = 0;
const NOT_AN_EVENT = -1;

/**
 * The key walk of `eventMembers` and `storedFormSpans` over `parsed` (what `json` parsed to):
 * NOT_AN_EVENT for an unknown or out-of-order key, a value of the wrong type or no
 * `retry_count`; STORED_FORM when the length proof holds; else the number of members, for the
 * scan. Records the values' spans in `spans` when given.
 */
function walkStoredForm(
  json: string,
  parsed: Readonly<Record<string, unknown>>,
  spans: Int32Array | undefined,
  base: number,
): number {
  let at = 0;
  let keys = 0;
  let retry: number | undefined;
  let retryAt = 0; // where `"retry_count":` starts in the stored form
  let storedLength = 1; // `{`, then one comma per member, the last one standing for `}`
  for (const key in parsed) {
    while (at < STORED_KEYS.length && STORED_KEYS[at] !== key) at++;
    if (at === STORED_KEYS.length) return NOT_AN_EVENT;
    const v = parsed[key];
    if (v === undefined) continue; // absent from the stored form (JSON.parse never gives undefined)
    let length: number;
    if (key === 'retry_count') {
      // Safe and not negative: JSON.stringify writes it as plain digits.
      if (!Number.isSafeInteger(v) || (v as number) < 0) return NOT_AN_EVENT;
      retry = v as number;
      retryAt = storedLength;
      length = digitCount(retry);
    } else if (typeof v === 'string') length = v.length;
    else return NOT_AN_EVENT;
    if (spans !== undefined) {
      // `"key":"` before a string, `"key":` before the number
      const from = storedLength + (KEY_COST[at] ?? 0) - (key === 'retry_count' ? 1 : 2);
      spans[base + 2 * at] = from;
      spans[base + 2 * at + 1] = from + length;
    }
    storedLength += length + (KEY_COST[at] ?? 0);
    at++;
    keys++;
  }
  if (retry === undefined) return NOT_AN_EVENT;
  return storedLength === json.length && !json.includes('\\') && writesRetryAsDigits(json, retryAt, retry)
    ? STORED_FORM
    : keys;
}

/**
 * The text has `"retry_count":` where the stored form has it, then `retry` as JSON.stringify
 * writes it, then the number ends. With the stored form's exact length that rules out every
 * other spelling: whitespace or a repeated member before it would have moved it, and a
 * repeated member is longer than any number can be shortened (`9e15` saves 12 characters; a
 * member costs at least 16). (Looked up at its offset: `indexOf` of the key cost 200 ns.)
 */
function writesRetryAsDigits(json: string, at: number, retry: number): boolean {
  if (!json.startsWith('"retry_count":', at)) return false;
  const digits = String(retry);
  const end = at + 14 + digits.length;
  return json.startsWith(digits, at + 14) && (json.charCodeAt(end) === 44 || json.charCodeAt(end) === 125);
}

function digitCount(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : String(n).length;
}

/** `eventMembers` for text that is not exactly the stored form, or has escapes: the checks by scanning. */
function escapedMembers(json: string, retry: number, keys: number): string | undefined {
  if (json.includes('\n') || json.includes('\r')) return undefined;
  // The integer as written: `"retry_count":1` then the number ends (not `1.0`, `1e0`, `10`).
  const number = `"retry_count":${retry}`;
  const n = json.indexOf(number);
  const after = n === -1 ? '' : json.charAt(n + number.length);
  if (after !== ',' && after !== '}' && after !== ' ' && after !== '\t') return undefined;
  // Every key and every string value is one pair of unescaped quotes: a repeated key, or
  // anything nested under one, brings more.
  if (unescapedQuotes(json) !== 2 * (2 * keys - 1)) return undefined;
  return json.slice(json.indexOf('{') + 1, json.lastIndexOf('}'));
}

function unescapedQuotes(text: string): number {
  let count = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    let backslashes = 0;
    for (let j = i - 1; text.charCodeAt(j) === 92; j--) backslashes++;
    if (backslashes % 2 === 0) count++;
  }
  return count;
}
