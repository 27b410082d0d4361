import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { useRedis } from '../../support/use-redis.js';
import { createWarningStore, type WarningStore } from '../../../src/pilot/warning-store.js';
import { createOutcomeRecorder, type OutcomeAnnotationLine } from '../../../src/pilot/outcome-recorder.js';
import { pilotRoutes } from '../../../src/pilot/routes.js';
import { incident, transition } from './fixtures.js';
import { API_KEY, authenticate, listen, type TestServer } from './app.js';

const suite = useRedis();
let store: WarningStore;
let server: TestServer;
let off: TestServer;
const lines: OutcomeAnnotationLine[] = [];
const registry = new Registry();
const NOW = Date.parse('2024-05-01T12:00:00Z');
const auth = { authorization: `Bearer ${API_KEY}` };

beforeAll(async () => {
  store = createWarningStore({
    redis: suite.redis,
    keyPrefix: suite.prefix,
    maxWarnings: 100,
    retentionDays: 90,
    now: () => NOW,
  });
  const outcomes = createOutcomeRecorder({ store, writeLine: (l) => lines.push(l), registry, now: () => NOW });
  await store.applyTransitions([
    transition('open', incident({ warning_id: 'stripe:evt_1', processed_at: '2024-05-01T09:14:00.000Z' })),
    transition(
      'open',
      incident({
        warning_id: 'adyen:evt_2',
        processor: 'adyen',
        processed_at: '2024-05-01T10:00:00.000Z',
        status: 'resolved',
        resolved_at: '2024-05-01T10:30:00.000Z',
      }),
    ),
  ]);
  server = await listen(suite, (app) =>
    app.register(pilotRoutes, { enabled: true, store, outcomes, authenticate, now: () => NOW }),
  );
  off = await listen(suite, (app) => app.register(pilotRoutes, { enabled: false, store, outcomes, authenticate }));
});

const post = (base: string, id: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> =>
  fetch(`${base}/pilot/warnings/${encodeURIComponent(id)}/outcome`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('pilot routes', () => {
  it('lists warnings newest first with filters and a cursor, behind the bearer key', async () => {
    const denied = await fetch(`${server.url}/pilot/warnings`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { code: 'PF_ERR_UNAUTHORIZED' } });

    const res = await fetch(`${server.url}/pilot/warnings?limit=1`, { headers: auth });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { warnings: { warning_id: string }[]; next_cursor: string };
    expect(page.warnings.map((w) => w.warning_id)).toEqual(['adyen:evt_2']);
    const next = await fetch(`${server.url}/pilot/warnings?limit=1&cursor=${page.next_cursor}`, { headers: auth });
    expect(await next.json()).toMatchObject({ warnings: [{ warning_id: 'stripe:evt_1' }], next_cursor: null });
    const open = await fetch(`${server.url}/pilot/warnings?status=open&processor=stripe`, { headers: auth });
    expect(((await open.json()) as { warnings: unknown[] }).warnings).toHaveLength(1);
  });

  it('gets one warning, and 404s an unknown id', async () => {
    const res = await fetch(`${server.url}/pilot/warnings/stripe%3Aevt_1`, { headers: auth });
    expect(await res.json()).toMatchObject({
      warning_id: 'stripe:evt_1',
      processor_risk_band: 'elevated',
      outcome_observed: false,
    });
    const missing = await fetch(`${server.url}/pilot/warnings/stripe%3Anope`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'PF_ERR_NOT_FOUND' } });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['status=closed', 'status'],
    ['cursor=bm9wZQ', 'cursor'],
  ])('rejects the query %s with a 400 naming %s', async (query, field) => {
    const res = await fetch(`${server.url}/pilot/warnings?${query}`, { headers: auth });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_VALIDATION', field } });
  });

  it('records an outcome: stored on the warning, one proof line with the lead time, the histogram fed', async () => {
    lines.length = 0;
    const notes = 'x'.repeat(2000);
    const res = await post(server.url, 'stripe:evt_1', {
      outcome_type: 'throttle',
      observed_at: '2024-05-01T09:31:00Z',
      source: 'manual',
      notes,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      stored: true,
      lead_time_seconds: 1020,
      warning: { outcome_observed: true, outcome_type: 'throttle', outcome_source: 'manual' },
    });
    expect(lines).toEqual([
      {
        type: 'pilot_outcome_annotation',
        annotated_at: '2024-05-01T12:00:00.000Z',
        warning_id: 'stripe:evt_1',
        processor: 'stripe',
        merchant_id_hash: 'mhash',
        warning_event_id: 'evt_1',
        warning_processed_at: '2024-05-01T09:14:00.000Z',
        warning_opened_at: '2024-05-01T09:13:58.000Z',
        peak_band: 'elevated',
        peak_score: 0.42,
        outcome_type: 'throttle',
        outcome_timestamp: '2024-05-01T09:31:00Z',
        outcome_source: 'manual',
        outcome_notes: notes,
        stored: true,
        lead_time_seconds: 1020,
      },
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('payflux_warning_outcome_lead_time_seconds_count{source="manual"} 1');
    expect(metrics).toContain('payflux_warning_outcome_lead_time_seconds_sum{source="manual"} 1020');
    expect(await store.get('stripe:evt_1')).toMatchObject({
      outcome_type: 'throttle',
      outcome_timestamp: '2024-05-01T09:31:00Z',
      outcome_notes: notes,
    });
  });

  it.each([
    [
      'an unknown outcome_type',
      { outcome_type: 'banned', observed_at: '2024-05-01T09:31:00Z', source: 'manual' },
      'outcome_type',
    ],
    ['a missing outcome_type', { observed_at: '2024-05-01T09:31:00Z', source: 'manual' }, 'outcome_type'],
    ['a missing observed_at', { outcome_type: 'hold', source: 'manual' }, 'observed_at'],
    [
      'a non-timestamp observed_at',
      { outcome_type: 'hold', observed_at: 'yesterday', source: 'manual' },
      'observed_at',
    ],
    [
      'an observed_at without a zone',
      { outcome_type: 'hold', observed_at: '2024-05-01T09:31:00', source: 'manual' },
      'observed_at',
    ],
    [
      'an impossible date (Feb 30)',
      { outcome_type: 'hold', observed_at: '2024-02-30T09:31:00Z', source: 'manual' },
      'observed_at',
    ],
    [
      'an observed_at in the future',
      { outcome_type: 'hold', observed_at: '2024-05-01T12:06:00Z', source: 'manual' },
      'observed_at',
    ],
    ['an unknown source', { outcome_type: 'hold', observed_at: '2024-05-01T09:31:00Z', source: 'email' }, 'source'],
    [
      'notes over 2000 chars',
      { outcome_type: 'hold', observed_at: '2024-05-01T09:31:00Z', source: 'manual', notes: 'x'.repeat(2001) },
      'notes',
    ],
    [
      'notes that are not a string',
      { outcome_type: 'hold', observed_at: '2024-05-01T09:31:00Z', source: 'manual', notes: { text: 'x' } },
      'notes',
    ],
    [
      'notes that are a number (never coerced to "123")',
      { outcome_type: 'hold', observed_at: '2024-05-01T09:31:00Z', source: 'manual', notes: 123 },
      'notes',
    ],
    [
      'notes that are null',
      { outcome_type: 'hold', observed_at: '2024-05-01T09:31:00Z', source: 'manual', notes: null },
      'notes',
    ],
    [
      'an outcome_type in an array',
      { outcome_type: ['review'], observed_at: '2024-05-01T09:31:00Z', source: 'manual' },
      'outcome_type',
    ],
    ['a body that is not an object', ['hold'], 'body'],
  ])('rejects %s with a 400 naming the field, and writes no proof line', async (_label, body, field) => {
    lines.length = 0;
    const res = await post(server.url, 'stripe:evt_1', body);
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { code: string; field: string; message: string } };
    expect(err.error).toMatchObject({ code: 'PF_ERR_VALIDATION', field });
    expect(err.error.message).toContain(field);
    expect(lines).toEqual([]);
  });

  it('answers 401 before validating, and 404 for an outcome on an unknown warning', async () => {
    expect((await post(server.url, 'stripe:evt_1', { outcome_type: 'banned' }, {})).status).toBe(401);
    const res = await post(server.url, 'stripe:nope', {
      outcome_type: 'none',
      observed_at: '2024-05-01T09:31:00Z',
      source: 'manual',
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_NOT_FOUND' } });
  });

  it("answers another method on a parametric route with a 405 naming the route's method", async () => {
    const res = await fetch(`${server.url}/pilot/warnings/stripe:evt_1/outcome`, { method: 'PUT', headers: auth });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_METHOD_NOT_ALLOWED' } });
    expect((await fetch(`${server.url}/pilot/warnings/a/b/outcome`, { method: 'PUT', headers: auth })).status).toBe(
      404,
    );
  });

  it('serves the dashboard without a key, locked down by its CSP', async () => {
    const res = await fetch(`${server.url}/pilot/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('id="api-key"');
    expect((await fetch(`${server.url}/pilot/dashboard.js`)).headers.get('content-type')).toContain('javascript');
  });

  it.each([
    ['GET', '/pilot/warnings'],
    ['GET', '/pilot/warnings/stripe%3Aevt_1'],
    ['POST', '/pilot/warnings/stripe%3Aevt_1/outcome'],
    ['GET', '/pilot/dashboard'],
  ])('answers %s %s with 404 when pilot mode is off', async (method, path) => {
    const res = await fetch(`${off.url}${path}`, {
      method,
      headers: { ...auth, 'content-type': 'application/json' },
      body: method === 'POST' ? '{}' : undefined,
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'PF_ERR_NOT_FOUND' } });
  });
});
