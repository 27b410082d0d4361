import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { post, TEST_KEY, useApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { defined, poll } from '../../support/poll.js';
import { metric } from '../../support/probes.js';
import { unpackEntry } from '../../../src/events/packed-entry.js';

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0' });

describe('single-event ingest', () => {
  it('answers 202 with an empty body and stores the event in the stream', async () => {
    const e = event();
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, { ...e, unknown_field: 'ignored' });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
    const entries = await suite.redis.xrange(suite.app.stream, '-', '+');
    const stored = entries
      .map(([, f]) => JSON.parse(f[1]!) as Record<string, unknown>)
      .find((s) => s.event_id === e.event_id);
    expect(stored).toMatchObject({ event_id: e.event_id, processor: 'stripe', retry_count: 1 });
    expect(stored).not.toHaveProperty('unknown_field');
  });

  it('answers a duplicate with 202 and PayFlux-Duplicate, and stores one entry', async () => {
    const e = event();
    const before = await metric(suite.app.url, 'payflux_ingest_accepted_total');
    const first = await post(`${suite.app.url}/v1/events/payment_exhaust`, e);
    const second = await post(`${suite.app.url}/v1/events/payment_exhaust`, e);
    expect(first.status).toBe(202);
    expect(first.headers.get('payflux-duplicate')).toBeNull();
    expect(second.status).toBe(202);
    expect(second.headers.get('payflux-duplicate')).toBe('true');
    const entries = await suite.redis.xrange(suite.app.stream, '-', '+');
    expect(entries.filter(([, f]) => f[1]!.includes(e.event_id as string))).toHaveLength(1);
    expect(await metric(suite.app.url, 'payflux_ingest_accepted_total')).toBe(before + 1);
  });

  it('accepts an event dated months ago (the seed’s own sample) with 202 and exports it', async () => {
    const seedSample = `{
    "event_type": "payment_failed",
    "event_timestamp": "2026-01-09T12:00:00Z",
    "event_id": "550e8400-e29b-41d4-a716-446655440000",
    "processor": "stripe",
    "merchant_id_hash": "abc123",
    "payment_intent_id_hash": "pi_abc",
    "failure_category": "card_declined",
    "retry_count": 0,
    "geo_bucket": "US"
  }`;
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, seedSample);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    const line = await poll(
      'the export line',
      () => suite.app.lines.find((l) => l.event_id === '550e8400-e29b-41d4-a716-446655440000'),
      defined,
      { timeoutMs: 3000 },
    );
    expect(line).toMatchObject({ event_timestamp: '2026-01-09T12:00:00Z', processor: 'stripe' });
  });

  it('dedups UUIDs case-insensitively', async () => {
    const id = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';
    expect(
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, event({ event_id: id }))).headers.get(
        'payflux-duplicate',
      ),
    ).toBeNull();
    expect(
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, event({ event_id: id.toLowerCase() }))).headers.get(
        'payflux-duplicate',
      ),
    ).toBe('true');
  });

  it('exports the accepted event as one line', async () => {
    const e = event();
    await post(`${suite.app.url}/v1/events/payment_exhaust`, e);
    const line = await poll('the export line', () => suite.app.lines.find((l) => l.event_id === e.event_id), defined, {
      timeoutMs: 3000,
    });
    expect(line).toMatchObject({
      type: 'payment_event',
      event_id: e.event_id,
      event_timestamp: e.event_timestamp,
      processor: 'stripe',
    });
  });

  it.each([
    ['no key', { authorization: '' }, 401, 'PF_ERR_UNAUTHORIZED'],
    ['a wrong key', { authorization: 'Bearer wrong-key-000000000' }, 401, 'PF_ERR_UNAUTHORIZED'],
    ['a wrong content type', { 'content-type': 'text/plain' }, 415, 'PF_ERR_UNSUPPORTED_MEDIA_TYPE'],
  ])('refuses %s with a JSON error', async (_name, headers, status, code) => {
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, event(), headers);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code } });
  });

  it('answers 413 for a 2 MB body and 400 for garbage bytes', async () => {
    const big = await post(
      `${suite.app.url}/v1/events/payment_exhaust`,
      JSON.stringify({ ...event(), pad: 'x'.repeat(2_000_000) }),
    );
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'PF_ERR_BODY_TOO_LARGE' } });
    const garbage = await post(`${suite.app.url}/v1/events/payment_exhaust`, '\u0000\u00ff{{not json');
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ error: { code: 'PF_ERR_BAD_JSON' } });
  });

  it('answers 400 naming the field and the rule', async () => {
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, event({ retry_count: 500 }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: 'PF_ERR_VALIDATION',
        message: 'retry_count must be an integer from 0 to 100',
        field: 'retry_count',
      },
    });
  });
});

describe('batch ingest', () => {
  it('accepts the valid items of a mixed JSON array and reports the others by index', async () => {
    const dup = event();
    await post(`${suite.app.url}/v1/events/payment_exhaust`, dup);
    const res = await post(`${suite.app.url}/v1/events/batch`, [
      event(),
      event({ processor: 'paypal' }),
      dup,
      event({ event_timestamp: 'nope' }),
      event(),
    ]);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      accepted: number;
      duplicates: number;
      rejected: { index: number; error: { field?: string } }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.duplicates).toBe(1);
    expect(body.rejected.map((r) => [r.index, r.error.field])).toEqual([
      [1, 'processor'],
      [3, 'event_timestamp'],
    ]);
  });

  it('stores every event as the JSON of its validated event, whatever form it was sent in, on both routes', async () => {
    const stored = (e: Record<string, unknown>) => JSON.stringify(toPaymentEvent(e));
    const noRetry = event();
    delete noRetry.retry_count;
    // Each event with the text it is sent as: the stored form itself (taken as it came), and
    // forms that are not (stored after JSON.stringify): keys reordered, spaces, an unknown
    // field, no retry_count (stored as 0), an escape. A value with `},{` in it goes alone: it
    // sends its whole JSON body to Fastify's parser.
    const forms: [Record<string, unknown>, (e: Record<string, unknown>) => string][] = [
      [event({ channel: 'web' }), stored],
      [event(), (e) => JSON.stringify(Object.fromEntries(Object.entries(e).reverse()))],
      [event(), (e) => stored(e).replaceAll(',', ', ')],
      [event(), (e) => JSON.stringify({ ...e, unknown_field: 'ignored' })],
      [noRetry, (e) => JSON.stringify(e)],
      [event({ channel: 'caf\u00e9 "quoted"' }), (e) => stored(e).replace('caf\u00e9', 'caf\\u00e9')],
      [event(), stored],
    ];
    const braces: [Record<string, unknown>, (e: Record<string, unknown>) => string] = [
      event({ merchant_id_hash: 'm_},{"event_id":"x' }),
      stored,
    ];
    const storedPayloads = async () =>
      new Map(
        (await suite.redis.xrange(suite.app.stream, '-', '+'))
          .flatMap(([, f]) => unpackEntry(f[1]!))
          .map((text) => [(JSON.parse(text) as { event_id: string }).event_id, text]),
      );
    const fresh = (group: typeof forms) => {
      for (const [e] of group) e.event_id = `evt_${Math.random().toString(36).slice(2)}`;
      return group.map(([e, text]) => text(e));
    };
    for (const [group, type] of [
      [forms, 'application/json'],
      [[braces], 'application/json'],
      [[...forms, braces], 'application/x-ndjson'],
    ] as const) {
      const texts = fresh([...group]);
      const res = await post(
        `${suite.app.url}/v1/events/batch`,
        type === 'application/json' ? `[${texts.join(',')}]` : texts.join('\n'),
        { 'content-type': type },
      );
      expect(await res.json(), type).toEqual({ accepted: group.length, duplicates: 0, rejected: [] });
      const payloads = await storedPayloads();
      for (const [e] of group) expect(payloads.get(e.event_id as string), type).toBe(stored(e));
    }
    // The single-event route, form by form.
    for (const text of fresh([...forms, braces]))
      expect((await post(`${suite.app.url}/v1/events/payment_exhaust`, text)).status).toBe(202);
    const payloads = await storedPayloads();
    for (const [e] of [...forms, braces]) expect(payloads.get(e.event_id as string), 'single').toBe(stored(e));
    const proto = await post(
      `${suite.app.url}/v1/events/batch`,
      `[${stored(event()).replace('{', '{"__proto__":{"polluted":true},')}]`,
    );
    expect(proto.status).toBe(400);
  });

  it('accepts NDJSON, reporting a line that is not JSON', async () => {
    const a = event();
    const b = event();
    const body = `${JSON.stringify(a)}\n{oops\n\n${JSON.stringify(b)}\n`;
    const res = await post(`${suite.app.url}/v1/events/batch`, body, { 'content-type': 'application/x-ndjson' });
    expect(await res.json()).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [{ index: 1, error: { code: 'PF_ERR_BAD_JSON', message: 'line is not valid JSON' } }],
    });
  });

  it('counts requests refused before their body was read, by reason, and times them', async () => {
    const rejected = (reason: string): Promise<number> =>
      metric(suite.app.url, 'payflux_ingest_rejected_total', { reason });
    const count = async (): Promise<number> => {
      const text = await (await fetch(`${suite.app.url}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('payflux_ingest_duration_seconds_count{'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    };
    const before = [
      await rejected('bad_json'),
      await rejected('unsupported_media_type'),
      await rejected('body_too_large'),
      await count(),
    ];
    expect((await post(`${suite.app.url}/v1/events/payment_exhaust`, '{not json')).status).toBe(400);
    expect((await post(`${suite.app.url}/v1/events/batch`, '[1,', {})).status).toBe(400);
    expect(
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, event(), { 'content-type': 'text/csv' })).status,
    ).toBe(415);
    expect(
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, { big: 'x'.repeat(2 * 1024 * 1024) })).status,
    ).toBe(413);
    expect(await rejected('bad_json')).toBe((before[0] ?? 0) + 2);
    expect(await rejected('unsupported_media_type')).toBe((before[1] ?? 0) + 1);
    expect(await rejected('body_too_large')).toBe((before[2] ?? 0) + 1);
    expect(await count()).toBe((before[3] ?? 0) + 4);
  });

  it('takes NDJSON on the batch route only: the single-event route answers 415', async () => {
    const res = await post(`${suite.app.url}/v1/events/payment_exhaust`, `${JSON.stringify(event())}\n`, {
      'content-type': 'application/x-ndjson',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('refuses more than PAYFLUX_MAX_BATCH events and a body that is not an array', async () => {
    const many = Array.from({ length: 1001 }, () => event());
    const res = await post(`${suite.app.url}/v1/events/batch`, many);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_BATCH_TOO_LARGE' } });
    // NDJSON too (counted before any line is parsed: see the ndjsonParser unit test), with the count.
    const lines = `${many.map((e) => JSON.stringify(e)).join('\n')}\n\n`;
    const nd = await post(`${suite.app.url}/v1/events/batch`, lines, { 'content-type': 'application/x-ndjson' });
    expect(nd.status).toBe(400);
    expect(await nd.json()).toMatchObject({
      error: { code: 'PF_ERR_BATCH_TOO_LARGE', message: expect.stringContaining('got 1001') },
    });
    expect((await post(`${suite.app.url}/v1/events/batch`, event())).status).toBe(400);
  });
});

describe('operations endpoints', () => {
  it('serves /health, /ready and /metrics without a key', async () => {
    expect(await (await fetch(`${suite.app.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = (await (await fetch(`${suite.app.url}/ready`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({
      ready: true,
      buffer: 'redis',
      redis: { connected: true },
      consumer: { running: true },
    });
    const text = await (await fetch(`${suite.app.url}/metrics`)).text();
    for (const name of [
      'payflux_ingest_accepted_total',
      'payflux_ingest_duration_seconds',
      'payflux_consumer_lag_messages',
      'payflux_events_by_processor_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await fetch(`${suite.app.url}/nope`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_NOT_FOUND' } });
  });

  it('answers a served path asked with the wrong method with a JSON 405 and the methods it takes', async () => {
    const get = await fetch(`${suite.app.url}/v1/events/payment_exhaust?x=1`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(get.headers.get('x-request-id')).toBeTruthy();
    expect(await get.json()).toMatchObject({
      error: { code: 'PF_ERR_METHOD_NOT_ALLOWED', message: expect.stringContaining('use POST') },
    });
    const del = await fetch(`${suite.app.url}/health`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    // Decided before the body is read: a body of a type no route parses is not a 415 here.
    const post = await fetch(`${suite.app.url}/health`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(post.status).toBe(405);
    expect((await fetch(`${suite.app.url}/v1/events/payment_exhaust/extra`, { method: 'POST' })).status).toBe(404);
  });

  it('reloads keys from PAYFLUX_API_KEYS_FILE and PAYFLUX_REVOKED_KEYS_FILE on SIGHUP, the process environment unchanged', async () => {
    const dir = suite.scratch();
    const keysFile = join(dir, 'keys');
    const revokedFile = join(dir, 'revoked');
    writeFileSync(keysFile, '# rotation\nfile-key-one-0123456789\n');
    writeFileSync(revokedFile, '');
    const env = {
      ...process.env,
      PAYFLUX_API_KEYS: TEST_KEY,
      PAYFLUX_API_KEYS_FILE: keysFile,
      PAYFLUX_REVOKED_KEYS_FILE: revokedFile,
    };
    const status = async (key: string): Promise<number> =>
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, event(), { authorization: `Bearer ${key}` })).status;
    await suite.app.running.reload(env);
    expect(await status('file-key-one-0123456789')).toBe(202);
    writeFileSync(keysFile, 'file-key-one-0123456789, file-key-two-0123456789\n');
    writeFileSync(revokedFile, 'file-key-one-0123456789\n');
    await suite.app.running.reload(env);
    expect(await status('file-key-one-0123456789')).toBe(401);
    expect(await status('file-key-two-0123456789')).toBe(202);
    // An unreadable file keeps the keys in force.
    await suite.app.running.reload({ ...env, PAYFLUX_API_KEYS_FILE: join(dir, 'missing') });
    expect(await status('file-key-two-0123456789')).toBe(202);
    await suite.app.running.reload({ ...process.env, PAYFLUX_API_KEYS: TEST_KEY });
    expect(await status('file-key-two-0123456789')).toBe(401);
  });

  it('reloads keys without a restart (SIGHUP path): a new key works, a revoked one is refused', async () => {
    const next = 'rotated-key-0123456789';
    await suite.app.running.reload({ ...process.env, PAYFLUX_API_KEYS: `${TEST_KEY},${next}` });
    expect(
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, event(), { authorization: `Bearer ${next}` })).status,
    ).toBe(202);
    await suite.app.running.reload({
      ...process.env,
      PAYFLUX_API_KEYS: `${TEST_KEY},${next}`,
      PAYFLUX_REVOKED_KEYS: next,
    });
    expect(
      (await post(`${suite.app.url}/v1/events/payment_exhaust`, event(), { authorization: `Bearer ${next}` })).status,
    ).toBe(401);
    expect((await post(`${suite.app.url}/v1/events/payment_exhaust`, event())).status).toBe(202);
  });
});
