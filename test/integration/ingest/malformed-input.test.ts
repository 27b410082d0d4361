/**
 * Property test over a real HTTP socket: whatever bytes arrive, the answer is a 4xx (or a 2xx
 * for what happens to be valid) with a JSON error body, never a 5xx, and the server stays up.
 */
import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import fc from 'fast-check';
import { TEST_KEY, useApp } from '../../support/app.js';
import { event } from '../../support/events.js';

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0' });

async function send(
  path: string,
  body: Uint8Array | string,
  contentType: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`${suite.app.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: await res.text() };
}

function expectClientAnswer(r: { status: number; body: string }): void {
  expect(r.status).toBeLessThan(500);
  if (r.status >= 400) {
    const parsed = JSON.parse(r.body) as { error: { code: string; message: string } };
    expect(parsed.error.code).toMatch(/^PF_ERR_/);
    expect(parsed.error.message.length).toBeGreaterThan(0);
  }
}

const paths = ['/v1/events/payment_exhaust', '/v1/events/batch'];
const contentTypes = [
  'application/json',
  'application/x-ndjson',
  'application/json; charset=utf-8',
  'text/plain',
  'application/octet-stream',
];

describe('malformed input', () => {
  it('random bytes never get a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom(...contentTypes),
        fc.uint8Array({ maxLength: 2048 }),
        async (path, ct, bytes) => {
          expectClientAnswer(await send(path, bytes, ct));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any JSON value, and events with wrong types in every field, never get a 5xx', async () => {
    const mutated = fc
      .record({ field: fc.constantFrom(...Object.keys(event())), value: fc.jsonValue({ maxDepth: 4 }) })
      .map(({ field, value }) => ({ ...event(), [field]: value }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.jsonValue({ maxDepth: 6 }), mutated, fc.array(mutated, { maxLength: 5 })),
        async (path, value) => {
          expectClientAnswer(await send(path, JSON.stringify(value), 'application/json'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('huge strings, deep nesting, bad UTF-8 and prototype pollution are refused with a 4xx (or item by item in a batch)', async () => {
    const cases: [string, Uint8Array | string][] = [
      ['huge string', JSON.stringify({ ...event(), event_type: 'x'.repeat(900_000) })],
      ['deep nesting', '['.repeat(200_000) + ']'.repeat(200_000)],
      ['deep object', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)],
      ['bad utf-8', new Uint8Array([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
      ['__proto__', '{"__proto__":{"polluted":true},"event_id":"x"}'],
      ['constructor', '{"constructor":{"prototype":{"polluted":true}}}'],
      ['empty body', ''],
      ['NUL bytes', '\u0000\u0000\u0000'],
    ];
    for (const path of paths) {
      for (const [, body] of cases) {
        const r = await send(path, body, 'application/json');
        expectClientAnswer(r);
        if (r.status === 200) {
          // A batch that parses as an array is answered item by item: nothing accepted.
          expect(JSON.parse(r.body)).toMatchObject({ accepted: 0, rejected: [{ index: 0 }] });
        } else expect(r.status).toBeGreaterThanOrEqual(400);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${suite.app.url}/health`)).status).toBe(200);
  });
});

/** Write `bytes` on a fresh connection; resolve with everything the server sent before closing. */
function rawExchange(bytes: string): Promise<string> {
  const { port } = new URL(suite.app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`no close; got ${JSON.stringify(got)}`)));
    socket.write(bytes);
  });
}

function parseRaw(raw: string): {
  status: number;
  headers: Map<string, string>;
  body: { error: { code: string; message: string } };
} {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: JSON.parse(body) as { error: { code: string; message: string } },
  };
}

describe('errors before any route runs', () => {
  it('a URL that cannot be decoded gets the JSON error contract and a request id', async () => {
    const res = await fetch(`${suite.app.url}/v1/events/%zz`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}` },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      error: { code: 'PF_ERR_BAD_REQUEST', message: 'the request URL cannot be decoded' },
    });
  });

  it('bytes that are not HTTP, and headers over the limit, get the contract too, then the connection closes', async () => {
    const garbage = parseRaw(await rawExchange('HELLO THERE\r\n\r\n'));
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('PF_ERR_BAD_REQUEST');
    expect(garbage.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(garbage.headers.get('connection')).toBe('close');

    const big = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(big.status).toBe(431);
    expect(big.body.error.code).toBe('PF_ERR_HEADERS_TOO_LARGE');
    expect((await fetch(`${suite.app.url}/health`)).status).toBe(200);
  });
});
