import fc from 'fast-check';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { BadLine, BatchBody, EventBody, jsonBatchParser, jsonEventParser, parseNdjson } from '../../../src/http/ingest-bodies.js';

const req = {} as FastifyRequest;

/** Stands in for Fastify's parser: marks what it was handed, so a test sees which path ran. */
class Fallback {
  constructor(readonly value: unknown) {}
}
const fallback = (_req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void): void => {
  try {
    done(null, new Fallback(JSON.parse(body)));
  } catch (err) {
    done(err as Error);
  }
};

function parsed(body: string, parse = jsonBatchParser(fallback)): { err: Error | null; value: unknown } {
  let out: { err: Error | null; value: unknown } | undefined;
  parse(req, body, (err, value) => {
    out = { err, value };
  });
  if (out === undefined) throw new Error('the parser did not answer synchronously');
  return out;
}

// Strings with the characters that could fool a cut: braces, commas, quotes, backslashes.
const tricky = fc.string({ unit: fc.constantFrom('}', '{', ',', '"', '\\', '[', ']', 'a', ' ', 'é'), maxLength: 8 });
const item = fc.oneof(
  fc.dictionary(fc.oneof(tricky, fc.constantFrom('event_id', 'a')), fc.oneof(tricky, fc.integer(), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('jsonBatchParser', () => {
  it('gives every JSON array exactly the items JSON.parse gives, with each item’s own text when it cut the body', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (items) => {
        const body = JSON.stringify(items);
        const { err, value } = parsed(body);
        expect(err).toBeNull();
        if (value instanceof Fallback) {
          expect(value.value).toEqual(JSON.parse(body));
          return;
        }
        expect(value).toBeInstanceOf(BatchBody);
        const b = value as BatchBody;
        expect(b.items).toEqual(JSON.parse(body));
        expect(`[${b.texts.join(',')}]`).toBe(body);
        b.texts.forEach((t, i) => expect(JSON.parse(t)).toEqual(b.items[i]));
      }),
      { numRuns: 500 },
    );
  });

  it('cuts plain arrays of objects, and hands everything else to the fallback', () => {
    const plain = parsed('[{"event_id":"a"},{"event_id":"b","x":"}{,"}]').value as BatchBody;
    expect(plain).toBeInstanceOf(BatchBody);
    expect(plain.texts).toEqual(['{"event_id":"a"}', '{"event_id":"b","x":"}{,"}']);
    for (const body of [
      '[{"a":[{"b":1},{"c":2}]}]', // a cut inside a nested array
      '[{"a":"x},{y"}]', // a cut inside a string
      '[ {"a":1} ]', // whitespace
      '[]',
      '{"a":1}',
      '[{"__proto__":{"polluted":true},"event_id":"x"}]',
      '[{"\\u005f_proto__":{"polluted":true}}]',
      '[{"constructor":{"prototype":{"polluted":true}}}]',
    ]) {
      expect(parsed(body).value, body).toBeInstanceOf(Fallback);
    }
    expect(parsed('[{"a":1},{"b":').err).toBeInstanceOf(SyntaxError);
  });
});

describe('jsonEventParser', () => {
  const parse = jsonEventParser(fallback);
  it('keeps the text of a body it parsed, and hands bodies it cannot parse or must not to the fallback', () => {
    expect(parsed('{"event_id":"a"}', parse).value).toEqual(new EventBody({ event_id: 'a' }, '{"event_id":"a"}'));
    expect(parsed(' [1] ', parse).value).toEqual(new EventBody([1], ' [1] '));
    expect(parsed('{"__proto__":{"polluted":true}}', parse).value).toBeInstanceOf(Fallback);
    expect(parsed('{"constructor":{"prototype":{}}}', parse).value).toBeInstanceOf(Fallback);
    expect(parsed('{not json', parse).err).toBeInstanceOf(SyntaxError);
    expect(parsed('', parse).err).toBeInstanceOf(SyntaxError);
  });
});

describe('parseNdjson', () => {
  it('keeps each non-blank line as its item’s text, and a line that does not parse as a BadLine', () => {
    let value: unknown;
    parseNdjson(req, '{"a":1}\n\n{oops\n  \n{"b":2}\r\n', (_err, v) => {
      value = v;
    });
    const b = value as BatchBody;
    expect(b.items).toEqual([{ a: 1 }, new BadLine('line is not valid JSON'), { b: 2 }]);
    expect(b.texts).toEqual(['{"a":1}', '{oops', '{"b":2}\r']);
  });
});
