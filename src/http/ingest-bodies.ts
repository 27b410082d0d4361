/**
 * Body parsers of the ingest routes that keep each event's own text beside what it parsed to,
 * so that an event sent in the stored form — `JSON.stringify` of the validated event: the
 * export line's field order, no whitespace, `retry_count` present; what
 * `payflux loadgen` and the benchmarks send — is stored as it came instead of serialised
 * again. `JSON.stringify` was ~1 µs of the ~8 µs batch ingest spends per event in Node
 * (profiled); the cuts and the proof (`isStoredForm`) cost ~0.15 µs.
 * Events in any other form are stored exactly as before.
 *
 * - JSON, single event: parsed as it is; the text kept.
 * - JSON, batch: a body that is plainly `[{…},{…},…]` is cut at every `},{` and each piece
 *   parsed on its own. Whatever the cuts, the pieces are exactly the body's items when every
 *   piece parses: the body is then `[` + the pieces joined by `,` + `]`, which is a valid JSON
 *   array of those values. A cut inside a string or a nested value leaves a piece that does not
 *   parse, and then the body goes to Fastify's own parser, as does another shape (whitespace,
 *   `[]`, not an array) and a body of more pieces than a batch may hold (refused after parsing).
 * - Either JSON route: a body in which secure-json-parse's tests find a `__proto__` or
 *   `constructor` key, in any spelling, goes to Fastify's parser, which answers it as it always
 *   has (a `__proto__` key, or a `constructor` with a `prototype`, is a 400).
 * - NDJSON: one item per non-blank line, as before; a line that does not parse is a `BadLine`
 *   in its place.
 */
import type { FastifyBodyParser, FastifyRequest } from 'fastify';

type Done = (err: Error | null, body?: unknown) => void;
type Parser = (req: FastifyRequest, body: string | Buffer, done: Done) => void;

/**
 * One NDJSON line that did not parse, kept in place: an NDJSON item's `index` is its position
 * among the body's non-blank lines (blank lines, such as the one after a final newline, are
 * skipped, not items).
 */
export class BadLine {
  constructor(readonly message: string) {}
}

/** A batch's items and, for each, the text it parsed from (a view into the body, which it keeps alive). */
export class BatchBody {
  constructor(
    readonly items: readonly unknown[],
    readonly texts: readonly string[],
  ) {}
}

/** A single event's body: what it parsed to, and its text. */
export class EventBody {
  constructor(
    readonly value: unknown,
    readonly text: string,
  ) {}
}

// secure-json-parse's own tests (v4.1.1), which Fastify's parser runs on every JSON body: a body
// either matches here and takes that parser, or has neither key in any spelling. A unit test
// holds them to the installed secure-json-parse.
export const SUSPECT_PROTO =
  /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
export const SUSPECT_CONSTRUCTOR =
  /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;

const suspect = (text: string): boolean => SUSPECT_PROTO.test(text) || SUSPECT_CONSTRUCTOR.test(text);

/** The JSON parser of the single-event route: an `EventBody`, or whatever `fallback` (Fastify's) makes of it. */
export function jsonEventParser(fallback: FastifyBodyParser<string>): Parser {
  return (req, body, done) => {
    const text = body as string;
    let parsed: EventBody | undefined;
    if (!suspect(text)) {
      try {
        parsed = new EventBody(JSON.parse(text), text);
      } catch {
        // Fastify's parser answers it, with its own error.
      }
    }
    if (parsed !== undefined) done(null, parsed);
    else void fallback(req, text, done);
  };
}

/** The JSON parser of the batch route: a `BatchBody`, or whatever `fallback` (Fastify's) makes of it. */
export function jsonBatchParser(fallback: FastifyBodyParser<string>, maxItems: number): Parser {
  return (req, body, done) => {
    const text = body as string;
    const items = suspect(text) ? undefined : splitItems(text, maxItems);
    if (items !== undefined) done(null, items);
    else void fallback(req, text, done);
  };
}

/**
 * `[{…},{…}]` as its items, or undefined when the cuts at `},{` are not all JSON values, or
 * are more than `maxItems` (the handler refuses such a batch; no need for its pieces).
 */
export function splitItems(body: string, maxItems: number): BatchBody | undefined {
  if (!body.startsWith('[{') || !body.endsWith('}]')) return undefined;
  const texts: string[] = [];
  let start = 1;
  for (let cut = body.indexOf('},{', start); cut !== -1; cut = body.indexOf('},{', start)) {
    if (texts.length + 1 >= maxItems) return undefined; // this piece and the last: too many
    texts.push(body.slice(start, cut + 1));
    start = cut + 2;
  }
  texts.push(body.slice(start, body.length - 1));
  const items = new Array<unknown>(texts.length);
  try {
    for (let i = 0; i < texts.length; i++) items[i] = JSON.parse(texts[i] as string);
  } catch {
    return undefined;
  }
  return new BatchBody(items, texts);
}

/**
 * A batch body of more items than a batch may hold: counted, not parsed, since the handler
 * refuses it anyway (8 MiB of tiny NDJSON lines took the event loop ~1 s to parse; ~0.15 s to
 * count).
 */
export class OversizedBatch {
  constructor(readonly count: number) {}
}

/**
 * The NDJSON parser of the batch route: a `BatchBody` with a `BadLine` for each line that is
 * not JSON, or an `OversizedBatch` when there are more than `maxItems` non-blank lines.
 */
export function ndjsonParser(maxItems: number): Parser {
  return (_req, body, done) => {
    const texts: string[] = [];
    for (const line of (body as string).split('\n')) if (line.trim() !== '') texts.push(line);
    if (texts.length > maxItems) {
      done(null, new OversizedBatch(texts.length));
      return;
    }
    const items = new Array<unknown>(texts.length);
    for (let i = 0; i < texts.length; i++) {
      try {
        items[i] = JSON.parse(texts[i] as string);
      } catch {
        items[i] = new BadLine('line is not valid JSON');
      }
    }
    done(null, new BatchBody(items, texts));
  };
}
