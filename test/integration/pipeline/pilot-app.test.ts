/** Pilot mode through the whole app: events in, one warning per incident, an outcome recorded. */
import { describe, expect, it } from 'vitest';
import { post, TEST_KEY, useApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { defined, poll } from '../../support/poll.js';

const auth = { authorization: `Bearer ${TEST_KEY}` };

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0', PAYFLUX_PILOT_MODE: 'true', PAYFLUX_TIER: 'tier2' });

interface WarningJson {
  warning_id: string;
  processor: string;
  status: string;
  peak_band: string;
  event_count: number;
  processor_playbook_context?: string;
}

describe('pilot mode in the running app', () => {
  it('opens one warning for an outage (not one per event), and records an outcome with a proof line', async () => {
    const t0 = Date.now() - 120_000;
    const healthy = Array.from({ length: 40 }, (_, i) =>
      event({
        processor: 'checkout',
        event_type: 'payment_succeeded',
        failure_category: undefined,
        retry_count: 0,
        event_timestamp: new Date(t0 + i * 500).toISOString(),
      }),
    );
    const outage = Array.from({ length: 200 }, (_, i) =>
      event({
        processor: 'stripe',
        failure_category: 'gateway_timeout',
        retry_count: 2,
        event_timestamp: new Date(t0 + i * 300).toISOString(),
      }),
    );
    await post(`${suite.app.url}/v1/events/batch`, healthy);
    await post(`${suite.app.url}/v1/events/batch`, outage);

    const list = await poll(
      'a stripe warning over 150 events',
      async () => {
        const res = await fetch(`${suite.app.url}/pilot/warnings?processor=stripe`, { headers: auth });
        return ((await res.json()) as { warnings: WarningJson[] }).warnings;
      },
      (warnings) => warnings.length > 0 && warnings[0]!.event_count >= 150,
      { timeoutMs: 8000 },
    );
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ processor: 'stripe', status: 'open', peak_band: 'critical' });
    expect(list[0]!.processor_playbook_context).toMatch(/typically|commonly/);
    expect(
      (await (await fetch(`${suite.app.url}/pilot/warnings?processor=checkout`, { headers: auth })).json()) as {
        warnings: unknown[];
      },
    ).toMatchObject({ warnings: [] });

    const id = list[0]!.warning_id;
    const observed = new Date(Date.now() + 1500).toISOString(); // the processor acted after the warning
    const res = await fetch(`${suite.app.url}/pilot/warnings/${encodeURIComponent(id)}/outcome`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        outcome_type: 'throttle',
        observed_at: observed,
        source: 'manual',
        notes: 'Stripe throttled us',
      }),
    });
    expect(res.status).toBeLessThan(300);
    const proof = await poll(
      'the proof line',
      () => suite.app.lines.find((l) => l.type === 'pilot_outcome_annotation'),
      defined,
      { timeoutMs: 3000 },
    );
    expect(proof).toMatchObject({ warning_id: id, outcome_type: 'throttle' });
    expect(typeof proof.lead_time_seconds).toBe('number');
    const metrics = await (await fetch(`${suite.app.url}/metrics`)).text();
    expect(metrics).toContain('payflux_warning_outcome_lead_time_seconds_count');
  });

  it('serves the dashboard page without a key', async () => {
    const res = await fetch(`${suite.app.url}/pilot/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
  });
});
