/**
 * Body parsers of the ingest routes that keep each event's own text beside what it parsed to,
 * so that an event already in the stored form (`JSON.stringify` of the validated event, the
 * form the SPEC documents and our clients send) is stored as it came instead of being
 * serialised again: `JSON.stringify` was ~1 µs of the ~8 µs batch ingest spends per event in
 * Node (profiled); the split below and the proof (`isStoredForm`) cost ~0.1 µs.
 *
 * - JSON, single event: parsed as it is; the text kept.
 * - JSON, batch: a body that is plainly `[{…},{…},…]` is cut at every `},{` and each piece
 *   parsed on its own. Whatever the cuts, the pieces are exactly the body's items when every
 *   piece parses: the body is then `[` + the pieces joined by `,` + `]`, which is a valid JSON
 *   array of those values. A cut inside a string or a nested value leaves a piece that does not
 *   parse, and then the body goes to Fastify's own parser, as does another shape (whitespace,
 *   `[]`, not an array).
 * - Either JSON route: a body with a `__proto__` or `constructor` key in any spelling goes to
 *   Fastify's parser, which refuses it (400) as it always has.
 * - NDJSON: one item per non-blank line, as before; a line that does not parse is a `BadLine`
 *   in its place.
 */
import type { FastifyBodyParser, FastifyRequest } from 'fastify';

/**
 * One NDJSON line that did not parse, kept in place: an NDJSON item's `index` is its position
 * among the body's non-blank lines (blank lines, such as the one after a final newline, are
 * skipped, not items).
 */
export class BadLine {
  constructor(readonly message: string) {}
}

/** A batch's items and, for each, the text it parsed from. */
export class BatchBody {
  constructor(
    readonly items: readonly unknown[],
    readonly texts: readonly string[],
  ) {}
}

// secure-json-parse's own tests (v4.1.1), which Fastify's parser runs on every JSON body: a
// body either matches here and takes that parser, or has neither key in any spelling.
const SUSPECT_PROTO = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
const SUSPECT_CONSTRUCTOR = /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;

type Done = (err: Error | null, body?: unknown) => void;

/** A single event's body: what it parsed to, and its text. */
export class EventBody {
  constructor(
    readonly value: unknown,
    readonly text: string,
  ) {}
}

type Parser = (req: FastifyRequest, body: string | Buffer, done: Done) => void;

const suspect = (text: string): boolean => SUSPECT_PROTO.test(text) || SUSPECT_CONSTRUCTOR.test(text);

/** The JSON parser of the single-event route, falling back to `fallback` (Fastify's default). */
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

/** The JSON parser of the batch route, falling back to `fallback` (Fastify's default). */
export function jsonBatchParser(fallback: FastifyBodyParser<string>): Parser {
  return (req, body, done) => {
    const text = body as string;
    const items = suspect(text) ? undefined : splitItems(text);
    if (items !== undefined) {
      done(null, items);
      return;
    }
    void fallback(req, text, done);
  };
}

/** `[{…},{…}]` as its items, or undefined when the cuts at `},{` are not all JSON values. */
export function splitItems(body: string): BatchBody | undefined {
  if (!body.startsWith('[{') || !body.endsWith('}]')) return undefined;
  const texts: string[] = [];
  let start = 1;
  for (let cut = body.indexOf('},{', start); cut !== -1; cut = body.indexOf('},{', start)) {
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

export function parseNdjson(_req: FastifyRequest, body: string | Buffer, done: Done): void {
  const items: unknown[] = [];
  const texts: string[] = [];
  for (const line of (body as string).split('\n')) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch {
      items.push(new BadLine('line is not valid JSON'));
    }
    texts.push(line);
  }
  done(null, new BatchBody(items, texts));
}
