/**
 * The ingest half of `payflux backtest`, on a worker thread: read the file, split it into lines,
 * validate each as `POST /v1/events` would, and hand the main thread the valid events, 500
 * lines at a time (except one line in six, which the main thread checks: `MAIN_THREAD_SHARE`).
 * The main thread makes of them what the live consumer has after decoding stream entries
 * — the event, its stored-form JSON (what ingest would have written, spliced into the export
 * line) and its event time — and runs the consumer's stages (risk, tier, incidents, export)
 * exactly as live.
 *
 * Why a thread: parsing and validating a line costs as much as everything after it, and the
 * second core was idle. Why this hand-over: structured cloning of parsed objects costs ~2 µs an
 * event, as much as parsing again (measured), while strings and typed arrays copy as memory.
 * So an event travels as its stored form — the line itself when it is exactly that, else what
 * ingest would store — plus, in a typed array, where each value is in it (`storedFormSpans`: the
 * walk that proves a line is the stored form finds them too), and its event time and line number;
 * the main thread slices the values out of the text (`eventFromSpans`) and splices the text into
 * the export line without checking it again. Arrays of short strings, not one string per batch:
 * strings over V8's large-object size (~128 KiB) were each a fresh mapping, faulted in page by
 * page (sys time 1.5 → 0.8 s per million events, measured). The values joined by a separator,
 * which this replaced, cost a string built and flattened on this thread and split on the other
 * (a million events, alternating: 3.5–4.6 s with the separator, 3.1–3.2 s with spans). A stored
 * form with an escape in it does not hold its values verbatim: those events travel as objects.
 *
 * Flow control: the worker runs at most `READ_AHEAD` batches ahead of the main thread, which asks
 * for one more each time it takes one, so a slow output never buffers the file in memory.
 */
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import type { MessagePort } from 'node:worker_threads';
import { eventFromSpans, STORED_FORM_SPAN_SLOTS, storedFormSpans } from '../events/stored-form.js';
import { type PaymentEvent } from '../events/payment-event.js';
import { createEventValidator, type EventValidator } from '../events/validate-event.js';
import type { Envelope } from '../pipeline/types.js';
import { inputChunks } from './backtest-input.js';

/** Events per batch of the pipeline: scores and incidents do not depend on it (live batches fall however reads do). */
export const BATCH = 500;
export const MAX_REPORTED_ERRORS = 20;
/** Batches the worker may have posted and the main thread not yet taken. */
const READ_AHEAD = 4;
/**
 * One line in this many is left for the main thread to parse and validate: the reader thread
 * was busy all of the time and the main thread about 60 %, and moving a line's ~2 µs across
 * evens them out (a million events, four alternating pairs: 2.82–2.87 s with none, 2.57–2.77 s
 * with one in six; one in four was no better). The main thread cuts batches of exactly `BATCH`
 * events again, whichever thread skipped a line.
 */
const MAIN_THREAD_SHARE = 6;

export interface BacktestWorkerData {
  readonly file: string;
  readonly processors: readonly string[];
}

/** The next lines with an event: valid ones, and those left for the main thread to check; and the lines skipped since the last message. */
export interface BatchMessage {
  readonly kind: 'batch';
  /** Each event's stored form (its line when that is exactly the stored form, else what ingest would store), or a line as read. */
  readonly texts: readonly string[];
  /** The lines as read that the main thread parses and validates itself (`MAIN_THREAD_SHARE`), by index in the batch. */
  readonly unchecked: readonly number[];
  /** Where each event's values are in its text (`storedFormSpans`, `STORED_FORM_SPAN_SLOTS` per event). */
  readonly spans: Int32Array;
  /** Events whose stored form has escapes (their values are not spans of it), by index in the batch. */
  readonly objects: readonly { readonly at: number; readonly event: PaymentEvent }[];
  /** Event times (0 for unchecked lines) and line numbers. */
  readonly times: Float64Array;
  readonly lines: Uint32Array;
  readonly skipped: number;
  readonly errors: readonly { line: number; message: string }[];
}

export type BacktestMessage =
  | BatchMessage
  | { readonly kind: 'end'; readonly skipped: number; readonly errors: readonly { line: number; message: string }[] }
  | { readonly kind: 'failed'; readonly message: string; readonly code: string | undefined };

/** The worker's work (backtest-worker.ts is its entry point): read, validate, post batches to `port`. */
export async function runReader(port: MessagePort, data: BacktestWorkerData): Promise<void> {
  const validate = createEventValidator({
    processors: data.processors,
    maxClockSkewSec: Infinity,
  });
  let credit = READ_AHEAD;
  let more: (() => void) | undefined;
  port.on('message', () => {
    credit++;
    more?.();
  });

  let texts: string[] = [];
  let spans = new Int32Array(BATCH * STORED_FORM_SPAN_SLOTS);
  let objects: { at: number; event: PaymentEvent }[] = [];
  let unchecked: number[] = [];
  let times: number[] = [];
  let lines: number[] = [];
  let skipped = 0;
  let errors: { line: number; message: string }[] = [];
  let reported = 0;
  let n = 0;

  const skip = (line: number, message: string): void => {
    skipped++;
    if (reported++ < MAX_REPORTED_ERRORS) errors.push({ line, message });
  };
  const take = (line: string): void => {
    n++;
    if (line.trim() === '') return;
    if (n % MAIN_THREAD_SHARE === 0) {
      unchecked.push(texts.length);
      texts.push(line);
      times.push(0);
      lines.push(n);
      return;
    }
    const stored = storedLine(line, validate, spans, texts.length * STORED_FORM_SPAN_SLOTS);
    if (typeof stored === 'string') {
      skip(n, stored);
      return;
    }
    if (stored.escaped) objects.push({ at: texts.length, event: stored.event });
    texts.push(stored.text);
    times.push(stored.eventTimeMs);
    lines.push(n);
  };
  const post = async (): Promise<void> => {
    while (credit === 0) await new Promise<void>((resolve) => (more = resolve));
    more = undefined;
    credit--;
    const timeArray = new Float64Array(times);
    const lineArray = new Uint32Array(lines);
    const message: BatchMessage = {
      kind: 'batch',
      texts,
      unchecked,
      spans,
      objects,
      times: timeArray,
      lines: lineArray,
      skipped,
      errors,
    };
    port.postMessage(message, [spans.buffer, timeArray.buffer, lineArray.buffer]);
    texts = [];
    spans = new Int32Array(BATCH * STORED_FORM_SPAN_SLOTS);
    objects = [];
    unchecked = [];
    times = [];
    lines = [];
    skipped = 0;
    errors = [];
  };

  // Chunked reads split by hand: readline's per-line async iteration cost a quarter of the
  // run (profiled: 24% self time on 1M events); this loop is synchronous within each 1 MiB chunk.
  // An all-ASCII chunk (recorded traffic nearly always is) is the same text read as Latin-1,
  // at a seventh of UTF-8 decoding's cost (115 against 851 µs per MiB, measured); a multi-byte
  // character split across chunks still meets the decoder, which holds its first bytes (ASCII
  // bytes cannot continue it, so `end()` before an ASCII chunk gives what `write()` would).
  const decoder = new StringDecoder('utf8');
  // The line that spans two chunks is joined on its own: `rest + text` was a 1 MiB string
  // flattened into fresh pages by the first `indexOf`, 60 % of the run's page faults (perf:
  // 160k → 69k, sys 1.1–2.1 → 0.6–1.1 s per million events); lines are slices of the chunk's.
  let rest = '';
  for await (const bytes of inputChunks(data.file)) {
    const text = isAscii(bytes) ? decoder.end() + bytes.toString('latin1') : decoder.write(bytes);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      take(withoutCr(from === 0 ? rest + text.slice(0, nl) : text.slice(from, nl)));
      from = nl + 1;
      if (texts.length === BATCH) await post();
    }
    rest = from === 0 ? rest + text : text.slice(from);
  }
  rest += decoder.end();
  if (rest !== '') take(withoutCr(rest));
  if (texts.length > 0) await post();
  const end: BacktestMessage = { kind: 'end', skipped, errors };
  port.postMessage(end);
}

const withoutCr = (line: string): string => (line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);

interface StoredLine {
  /** The stored form: the line itself when it is exactly that, else what ingest would store. */
  readonly text: string;
  readonly event: PaymentEvent;
  readonly eventTimeMs: number;
  /** The stored form has escapes: its values are not spans of it (`spans` not written). */
  readonly escaped: boolean;
}

/**
 * A line parsed and validated as ingest would, and its stored form, with its values' spans in
 * `spans` at `at`; or why the line is skipped.
 */
function storedLine(line: string, validate: EventValidator, spans: Int32Array, at: number): StoredLine | string {
  let body: unknown;
  try {
    body = JSON.parse(line);
  } catch {
    return 'line is not valid JSON';
  }
  const v = validate(body, 0);
  if (!v.ok) return v.error.message;
  // Most recorded lines are what ingest stored, byte for byte; any other (spaces, escapes,
  // other key order) is written as ingest writes it, so that the export is the live one's.
  if (storedFormSpans(line, body as Record<string, unknown>, spans, at))
    return { text: line, event: v.event, eventTimeMs: v.eventTimeMs, escaped: false };
  const text = JSON.stringify(v.event);
  return { text, event: v.event, eventTimeMs: v.eventTimeMs, escaped: !storedFormSpans(text, v.event, spans, at) };
}

/**
 * The main thread's side: the envelopes of a `BatchMessage`, as the live consumer's decode makes
 * them (stream ids `0-<line>`), after checking the lines left to it with `validate`, which
 * reports those it skips to `skip`.
 */
export function envelopesOf(
  m: BatchMessage,
  validate: EventValidator,
  skip: (line: number, message: string) => void,
): Envelope[] {
  const entries: Envelope[] = [];
  const scratch = new Int32Array(STORED_FORM_SPAN_SLOTS);
  let object = 0;
  let line = 0;
  for (let i = 0; i < m.lines.length; i++) {
    let text = m.texts[i] ?? '';
    let event: PaymentEvent;
    let eventTimeMs = m.times[i] ?? 0;
    if (m.unchecked[line] === i) {
      line++;
      const stored = storedLine(text, validate, scratch, 0);
      if (typeof stored === 'string') {
        skip(m.lines[i] ?? 0, stored);
        continue;
      }
      ({ text, event, eventTimeMs } = stored);
    } else if (m.objects[object]?.at === i) event = (m.objects[object++] as { event: PaymentEvent }).event;
    else event = eventFromSpans(text, m.spans, i * STORED_FORM_SPAN_SLOTS);
    const lineNumber = m.lines[i] ?? 0;
    entries.push({
      id: `0-${lineNumber}`,
      idMs: 0,
      idSeq: lineNumber,
      event,
      eventJson: text.slice(1, -1),
      eventTimeMs,
      ingestedAtMs: 0,
      deliveries: 1,
      risk: undefined,
      tier: undefined,
    });
  }
  return entries;
}
