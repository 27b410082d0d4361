/**
 * Body parsers of `POST /v1/events/batch` that keep each item's own text beside what it parsed
 * to, so that an item already in the stored form (`JSON.stringify` of the validated event, the
 * form the SPEC documents and our clients send) is stored as it came instead of being
 * serialised again: `JSON.stringify` was ~1 µs of the ~8 µs batch ingest spends per event in
 * Node (profiled), the split and proof below cost ~0.1 µs.
 *
 * - JSON: a body that is plainly `[{…},{…},…]` is cut at every `},{` and each piece parsed on
 *   its own. Whatever the cuts, the pieces are exactly the body's items when every piece parses:
 *   the body is then `[` + the pieces joined by `,` + `]`, which is a valid JSON array of those
 *   values. A cut inside a string or a nested value leaves a piece that does not parse, and
 *   then the body goes to Fastify's own parser, as does anything with a `__proto__` or
 *   `constructor` key (refused there, 400) or another shape (whitespace, `[]`, not an array).
 * - NDJSON: one item per non-blank line, as before; a line that does not parse is a `BadLine`
 *   in its place.
 */
import type { FastifyBodyParser, FastifyRequest } from 'fastify';

/** One NDJSON line that did not parse, kept in place (its index is its item's). */
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

/** The JSON parser of the batch route, falling back to `fallback` (Fastify's default). */
export function jsonBatchParser(fallback: FastifyBodyParser<string>): (req: FastifyRequest, body: string | Buffer, done: Done) => void {
  return (req, body, done) => {
    const text = body as string;
    const items = SUSPECT_PROTO.test(text) || SUSPECT_CONSTRUCTOR.test(text) ? undefined : splitItems(text);
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
