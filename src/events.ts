/**
 * The payment event: its wire JSON schema, its TypeScript type, and the classification rules
 * every stage shares (what counts as a failure, a timeout, an auth failure).
 *
 * Pure module: imported by operators, so no I/O and no validator library here.
 */

export const KNOWN_EVENT_TYPES = ['payment_failed', 'payment_succeeded'] as const;

/** Optional string fields of ≤ 100 chars, in export order. */
export const OPTIONAL_STRING_FIELDS = [
  'merchant_id_hash',
  'payment_intent_id_hash',
  'failure_category',
  'amount_bucket',
  'system_source',
  'payment_method_bucket',
  'channel',
  'retry_result',
  'failure_origin',
] as const;

/** `event_id`: a UUID (which this pattern also admits) or an idempotency key such as Stripe's `evt_…`. */
export const EVENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 3339 date-time with a mandatory zone (`Z` or `±hh:mm`). Calendar validity is checked separately. */
export const RFC3339_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

/** A validated payment event as stored in the buffer. Absent optional fields are `undefined`. */
export interface PaymentEvent {
  readonly event_id: string;
  readonly event_timestamp: string;
  readonly event_type: string;
  readonly processor: string;
  readonly merchant_id_hash: string | undefined;
  readonly payment_intent_id_hash: string | undefined;
  readonly failure_category: string | undefined;
  readonly geo_bucket: string | undefined;
  readonly retry_count: number;
  readonly amount_bucket: string | undefined;
  readonly system_source: string | undefined;
  readonly payment_method_bucket: string | undefined;
  readonly channel: string | undefined;
  readonly retry_result: string | undefined;
  readonly failure_origin: string | undefined;
}

/**
 * The wire JSON schema of one event (draft-07, compiled once by Ajv in `http/`).
 * Unknown fields are allowed and ignored: they are dropped when the event is stored.
 */
export function paymentEventSchema(processors: readonly string[]) {
  const optional = Object.fromEntries(OPTIONAL_STRING_FIELDS.map((f) => [f, { type: 'string', maxLength: 100 }]));
  return {
    $id: 'PaymentEvent',
    type: 'object',
    required: ['event_id', 'event_timestamp', 'event_type', 'processor'],
    properties: {
      event_id: { type: 'string', pattern: EVENT_ID_PATTERN },
      event_timestamp: { type: 'string', maxLength: 40, pattern: RFC3339_PATTERN },
      event_type: { type: 'string', minLength: 1, maxLength: 64, pattern: '\\S' },
      processor: { type: 'string', enum: [...processors] },
      geo_bucket: { type: 'string', maxLength: 20 },
      retry_count: { type: 'integer', minimum: 0, maximum: 100 },
      ...optional,
    },
  } as const;
}

/**
 * Epoch milliseconds of an event timestamp: exactly `Date.parse(iso)`, NaN included.
 *
 * Every stage that reads an event parses its timestamp once, and `Date.parse` was a third of
 * validation's cost (215 ns; this path 95 ns, measured). So the form producers and our own
 * tools write, `YYYY-MM-DDTHH:MM:SS[.mmm]Z`, is read digit by digit; everything else (offsets,
 * other precisions, years before 100 — which `Date.UTC` maps to 19xx — and days after the 28th,
 * where `Date.parse` rolls 30 February into March) is left to `Date.parse`, so the two cannot differ.
 */
export function parseEventTime(iso: string): number {
  const n = iso.length;
  if (
    (n === 24 ? iso.charCodeAt(19) === 46 : n === 20) &&
    iso.charCodeAt(n - 1) === 90 &&
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(10) === 84 &&
    iso.charCodeAt(13) === 58 &&
    iso.charCodeAt(16) === 58
  ) {
    const year = digitsAt(iso, 0, 4);
    const month = digitsAt(iso, 5, 2);
    const day = digitsAt(iso, 8, 2);
    const hour = digitsAt(iso, 11, 2);
    const minute = digitsAt(iso, 14, 2);
    const second = digitsAt(iso, 17, 2);
    const ms = n === 24 ? digitsAt(iso, 20, 3) : 0;
    if (
      year >= 100 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    }
  }
  return Date.parse(iso);
}

/**
 * Whether the date, time and zone an RFC 3339 timestamp (one matching RFC3339_PATTERN) writes
 * exist. `Date.parse` rolls 30 February into March and 24:00 into the next day, and the
 * pattern only checks digits; this refuses both, and a zone offset past ±23:59, so an event is
 * stored with the time it says. (A leap second, :60, already fails `Date.parse`.)
 */
export function isCalendarTime(iso: string): boolean {
  const year = digitsAt(iso, 0, 4);
  const month = digitsAt(iso, 5, 2);
  const day = digitsAt(iso, 8, 2);
  const hour = digitsAt(iso, 11, 2);
  const minute = digitsAt(iso, 14, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > days) return false;
  const zone = iso.charCodeAt(iso.length - 1);
  if (zone === 90 || zone === 122) return true;
  const offsetHours = digitsAt(iso, iso.length - 5, 2);
  const offsetMinutes = digitsAt(iso, iso.length - 2, 2);
  return offsetHours >= 0 && offsetHours <= 23 && offsetMinutes >= 0 && offsetMinutes <= 59;
}

/** The decimal number written by `count` digits at `at`; -1 when one of them is not a digit. */
function digitsAt(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The canonical form used for deduplication: UUIDs are case-insensitive, other keys are not. */
export function canonicalEventId(id: string): string {
  return id.length === 36 && UUID_RE.test(id) ? id.toLowerCase() : id;
}

/**
 * Copy the known fields of an already schema-validated body into a fixed-shape event.
 * A literal, not a spread: every event has the same hidden class (see STYLE.md, hot path).
 * The field order is the export line's (SPEC §8), so that `JSON.stringify` of the result, the
 * stored form, can be spliced into export lines verbatim (see `eventMembers`).
 */
export function toPaymentEvent(b: Record<string, unknown>): PaymentEvent {
  return {
    event_id: b.event_id as string,
    event_type: b.event_type as string,
    event_timestamp: b.event_timestamp as string,
    processor: b.processor as string,
    merchant_id_hash: b.merchant_id_hash as string | undefined,
    payment_intent_id_hash: b.payment_intent_id_hash as string | undefined,
    failure_category: b.failure_category as string | undefined,
    geo_bucket: b.geo_bucket as string | undefined,
    retry_count: (b.retry_count as number | undefined) ?? 0,
    amount_bucket: b.amount_bucket as string | undefined,
    system_source: b.system_source as string | undefined,
    payment_method_bucket: b.payment_method_bucket as string | undefined,
    channel: b.channel as string | undefined,
    retry_result: b.retry_result as string | undefined,
    failure_origin: b.failure_origin as string | undefined,
  };
}

/** The keys of the stored form, in order: `toPaymentEvent`'s, which are the export line's. */
const STORED_KEYS: readonly string[] = [
  'event_id',
  'event_type',
  'event_timestamp',
  'processor',
  'merchant_id_hash',
  'payment_intent_id_hash',
  'failure_category',
  'geo_bucket',
  'retry_count',
  ...OPTIONAL_STRING_FIELDS.slice(3),
];

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

// ---- classification ---------------------------------------------------------------------------

const TOKEN_SPLIT = /[^a-z0-9]+/;
const TIMEOUT_TOKENS = new Set(['timeout', 'timeouts', 'timedout']);
/** Whole tokens that name authentication: `auth_failure`, `authentication_required`, `3ds_failed`, `sca_required`. */
const AUTH_TOKENS = new Set(['auth', 'authentication', 'unauthenticated', 'authn', '3ds', '3ds2', 'threeds', 'sca']);

export function isFailure(e: Pick<PaymentEvent, 'event_type' | 'failure_category'>): boolean {
  return e.event_type === 'payment_failed' || (e.failure_category !== undefined && e.failure_category !== '');
}

function hasToken(category: string | undefined, tokens: ReadonlySet<string>): boolean {
  if (category === undefined || category === '') return false;
  for (const t of category.toLowerCase().split(TOKEN_SPLIT)) if (tokens.has(t)) return true;
  return false;
}

/** A timeout: a failure whose category has the whole token `timeout` (`gateway_timeout`, not `timeoutish`). */
export function isTimeout(category: string | undefined): boolean {
  return hasToken(category, TIMEOUT_TOKENS);
}

/** An auth failure: a failure whose category names authentication as a whole token. */
export function isAuthFailure(category: string | undefined): boolean {
  return hasToken(category, AUTH_TOKENS);
}
