import { describe, expect, it } from 'vitest';
import { TEST_KEY, startTestApp, useApp } from '../../support/app.js';
import { defined, poll } from '../../support/poll.js';
import { postScenario } from '../../support/scenario.js';
import type { HistoryView, LiveSnapshot } from '../../../src/pilot/live-state.js';

const PILOT = { PAYFLUX_PILOT_MODE: 'true', PAYFLUX_TIER: 'tier2', PAYFLUX_PROCESSORS: 'stripe,adyen,checkout' };
const suite = useApp(PILOT);
const auth = { authorization: `Bearer ${TEST_KEY}` };

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers: auth, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as T };
}

/** Healthy traffic on both processors for four minutes, then a stripe outage for the last 30 s. */
async function outage(url: string): Promise<void> {
  const now = Date.now();
  await postScenario(url, [
    { processor: 'stripe', scenario: 'healthy', events: 480, fromMs: now - 240_000, toMs: now - 31_000 },
    { processor: 'adyen', scenario: 'healthy', events: 480, fromMs: now - 240_000, toMs: now },
    { processor: 'stripe', scenario: 'outage', events: 300, fromMs: now - 30_000, toMs: now },
  ]);
}

describe('the dashboard live API', () => {
  it('shows each processor live, its history and the incident, from any node', async () => {
    const { url } = suite.app;
    await outage(url);
    const history = await poll(
      'every stripe event in its history',
      async () => await getJson<HistoryView>(`${url}/pilot/processors/stripe/history?range=1h`),
      (h) => h.body.points.reduce((n, p) => n + p.events, 0) === 780,
    );
    const snap = (await getJson<LiveSnapshot>(`${url}/pilot/processors`)).body;
    expect(snap).toMatchObject({ tier: 'tier2', tier_label: 'Revenue Protection', thresholds: [0.3, 0.6, 0.8] });
    expect(snap.quiet).toEqual(['checkout']);
    const stripe = snap.processors.find((p) => p.processor === 'stripe');
    const adyen = snap.processors.find((p) => p.processor === 'adyen');
    expect(stripe?.band).not.toBe('low');
    expect(stripe?.open_incident).toMatchObject({ peak_band: expect.stringMatching(/elevated|high|critical/) });
    expect(stripe?.events_per_min).toBeGreaterThan(200);
    expect(stripe?.drivers).toContain('high_failure_rate');
    expect(adyen).toMatchObject({ band: 'low', open_incident: null });

    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ processor: 'stripe', range: '1h', step_sec: 10 });
    // 4 minutes of 10 s slots.
    expect(history.body.points.length).toBeGreaterThanOrEqual(23);
    expect(history.body.points.at(-1)?.max_band).not.toBe('low');
    expect(history.body.incidents).toEqual([
      expect.objectContaining({ status: 'open', warning_id: stripe?.open_incident?.warning_id, outcome_type: null }),
    ]);
    const day = await getJson<HistoryView>(`${url}/pilot/processors/stripe/history?range=24h`);
    expect(day.body.step_sec).toBe(240);
    expect(day.body.points.length).toBeLessThanOrEqual(3);

    // An ingest-only node on the same Redis, which scores nothing, answers alike.
    const other = await startTestApp(suite, { ...PILOT, PAYFLUX_ROLE: 'ingest', PAYFLUX_KEY_PREFIX: suite.app.prefix });
    const fromOther = await getJson<HistoryView>(`${other.url}/pilot/processors/stripe/history?range=1h`);
    expect(fromOther.body.points).toEqual(history.body.points);
    const otherSnap = await getJson<LiveSnapshot>(`${other.url}/pilot/processors`);
    expect(otherSnap.body.processors.map((p) => [p.processor, p.band])).toEqual(
      snap.processors.map((p) => [p.processor, p.band]),
    );
  });

  it('streams the state as server-sent events to a fetch() with the key, and closes with the server', async () => {
    const app = await startTestApp(suite, PILOT);
    const res = await fetch(`${app.url}/pilot/processors/stream`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    const frame = async (): Promise<LiveSnapshot> => {
      for (;;) {
        const m = /event: state\ndata: (.*)\n\n/.exec(text);
        if (m?.[1] !== undefined) {
          text = text.slice((m.index ?? 0) + m[0].length);
          return JSON.parse(m[1]) as LiveSnapshot;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    expect((await frame()).processors).toEqual([]);
    await outage(app.url);
    const live = await poll(
      'stripe in the stream',
      async () => (await frame()).processors.find((p) => p.processor === 'stripe'),
      defined,
      { timeoutMs: 15_000 },
    );
    expect(live.processor).toBe('stripe');
    // app.close() ends the stream rather than waiting for the client to hang up.
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(reader.read()).resolves.toMatchObject({ done: true });
  });

  it('refuses without the key, and names a bad range or an unknown processor', async () => {
    const { url } = suite.app;
    for (const path of ['/pilot/processors', '/pilot/processors/stream', '/pilot/processors/stripe/history'])
      expect((await fetch(`${url}${path}`)).status).toBe(401);
    const bad = await getJson<{ error: { code: string; field: string } }>(
      `${url}/pilot/processors/stripe/history?range=2d`,
    );
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'PF_ERR_VALIDATION', field: 'range' } } });
    const unknown = await getJson<{ error: { code: string } }>(`${url}/pilot/processors/paypal/history`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'PF_ERR_NOT_FOUND' } } });
  });
});
