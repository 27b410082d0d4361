/** The route groups as `payflux serve` mounts them: risk state, the Risk API, export health. */
import { describe, expect, it } from 'vitest';
import { post, TEST_KEY, useApp, type ProcessorView } from '../../support/app.js';
import { event } from '../../support/events.js';
import { poll } from '../../support/poll.js';

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0', PAYFLUX_RISK_API_KEYS: 'pf_test_abcdefgh12' });

const auth = { authorization: `Bearer ${TEST_KEY}` };

describe('mounted routes', () => {
  it('GET /v1/risk/processors shows a processor going bad, and the score gauge follows', async () => {
    const t0 = Date.now() - 60_000;
    const events = Array.from({ length: 60 }, (_, i) =>
      event({
        processor: 'adyen',
        event_timestamp: new Date(t0 + i * 500).toISOString(),
        failure_category: 'gateway_timeout',
        retry_count: 2,
      }),
    );
    await post(`${suite.app.url}/v1/events/batch`, events);
    await poll(
      'the adyen events exported',
      () => suite.app.lines.filter((l) => l.processor === 'adyen').length,
      (n) => n >= 60,
      { timeoutMs: 5000 },
    );

    expect((await fetch(`${suite.app.url}/v1/risk/processors`)).status).toBe(401);
    type Body = { live: boolean; model: string; processors: ProcessorView[] };
    // Every node answers from the owners' checkpoints, read again every second.
    const body = await poll(
      'adyen critical',
      async () => (await (await fetch(`${suite.app.url}/v1/risk/processors`, { headers: auth })).json()) as Body,
      (b) => b.processors.find((p) => p.processor === 'adyen')?.window.events === 60,
      { timeoutMs: 5000 },
    );
    expect(body.live).toBe(true);
    expect(body.model).toBe('adaptive');
    const adyen = body.processors.find((p) => p.processor === 'adyen');
    expect(adyen?.band).toBe('critical');
    expect(adyen?.drivers).toContain('timeout_clustering');
    expect(adyen?.window.events).toBe(60);
    expect(Object.keys(adyen?.components ?? {})).toContain('segment_failure_concentration');
    expect(adyen?.focus).toBeNull();
    const metrics = await (await fetch(`${suite.app.url}/metrics`)).text();
    expect(metrics).toMatch(/payflux_processor_risk_score_last\{processor="adyen"\} (0\.[89]\d*|1)\n/);
    expect(metrics).toMatch(/payflux_processor_risk_events_total\{processor="adyen",band="critical"\} \d+/);
  });

  it('mounts the Risk Intelligence API with its own keys and trace ids', async () => {
    const health = await fetch(`${suite.app.url}/api/v1/risk/health`, {
      headers: { 'x-payflux-key': 'pf_test_abcdefgh12' },
    });
    expect(health.status).toBe(200);
    expect(health.headers.get('x-trace-id')).toMatch(/.+/);
    const unknown = await fetch(`${suite.app.url}/api/v1/risk`, {
      method: 'POST',
      headers: { 'x-payflux-key': 'pf_live_notconfigured', 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'shop.example.com' }),
    });
    expect(unknown.status).toBe(401);
    const blocked = await fetch(`${suite.app.url}/api/v1/risk`, {
      method: 'POST',
      headers: { 'x-payflux-key': 'pf_test_abcdefgh12', 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://169.254.169.254/latest/meta-data/' }),
    });
    expect(blocked.status).toBe(403);
  });

  it('GET /export/health reports stdout healthy with lines written', async () => {
    await post(`${suite.app.url}/v1/events/payment_exhaust`, event());
    const h = (await (await fetch(`${suite.app.url}/export/health`)).json()) as {
      enabled: boolean;
      export_mode: string;
      destinations: { stdout: { healthy: boolean; lines_written: number } };
    };
    expect(h).toMatchObject({ enabled: true, export_mode: 'stdout' });
    expect(h.destinations.stdout.healthy).toBe(true);
  });
});
