/**
 * A geo outage end to end over HTTP: ten minutes of a processor's healthy traffic, then one geo
 * (a fifth of its payments) at 85% declines. The segment in focus shows up in
 * `GET /v1/risk/processors`, and on the export lines: `geo_failure_concentration` among the
 * drivers, `processor_risk_focus` naming the geo, and the tier 2 text naming it.
 */
import { describe, expect, it } from 'vitest';
import { post, TEST_KEY, useApp, type ProcessorView } from '../../support/app.js';
import { event } from '../../support/events.js';
import { poll } from '../../support/poll.js';
import { rng } from '../../scenarios/generator.js';

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0', PAYFLUX_TIER: 'tier2' });

const GEOS = ['US', 'US', 'GB', 'BR', 'DE'] as const;
const RATE = 10;
const HEALTHY_SEC = 600;
const OUTAGE_SEC = 60;

describe('a geo outage over HTTP', () => {
  it('names the geo in /v1/risk/processors and on the export lines', async () => {
    const r = rng(7);
    const t0 = Date.now() - (HEALTHY_SEC + OUTAGE_SEC + 60) * 1000;
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < (HEALTHY_SEC + OUTAGE_SEC) * RATE; i++) {
      const sec = i / RATE;
      const geo = GEOS[Math.floor(r() * GEOS.length)] ?? 'US';
      const failed = sec >= HEALTHY_SEC && geo === 'BR' ? r() < 0.85 : r() < 0.06;
      events.push(
        event({
          event_id: `evt_focus_${i}`,
          processor: 'adyen',
          event_timestamp: new Date(t0 + i * (1000 / RATE)).toISOString(),
          event_type: failed ? 'payment_failed' : 'payment_succeeded',
          failure_category: failed ? 'card_declined' : undefined,
          geo_bucket: geo,
          merchant_id_hash: `m_${i % 7}`,
          retry_count: 0,
        }),
      );
    }
    for (let i = 0; i < events.length; i += 1000) {
      const res = await post(`${suite.app.url}/v1/events/batch`, events.slice(i, i + 1000));
      expect(res.status).toBe(200);
    }
    const lines = await poll(
      'every event exported',
      () => suite.app.lines.filter((l) => l.processor === 'adyen'),
      (ls) => ls.length >= events.length,
      { timeoutMs: 20_000 },
    );

    // Healthy traffic names no segment; the outage's last half minute names BR.
    const healthy = lines.filter((l) => Date.parse(String(l.event_timestamp)) < t0 + (HEALTHY_SEC - 10) * 1000);
    expect(healthy.filter((l) => l.processor_risk_focus !== undefined)).toHaveLength(0);
    const last = lines.at(-1) ?? {};
    expect(last.processor_risk_drivers).toContain('geo_failure_concentration');
    expect(last.processor_risk_focus).toEqual({ geo_bucket: 'BR' });
    expect(['elevated', 'high', 'critical']).toContain(last.processor_risk_band);
    expect(String(last.processor_playbook_context)).toContain('geography BR');

    type Body = { processors: ProcessorView[] };
    const auth = { authorization: `Bearer ${TEST_KEY}` };
    const body = await poll(
      'adyen with its whole window',
      async () => (await (await fetch(`${suite.app.url}/v1/risk/processors`, { headers: auth })).json()) as Body,
      (b) => b.processors.find((p) => p.processor === 'adyen')?.focus != null,
      { timeoutMs: 5000 },
    );
    const adyen = body.processors.find((p) => p.processor === 'adyen');
    expect(adyen?.focus).toEqual({ geo_bucket: 'BR' });
    expect(adyen?.drivers).toContain('geo_failure_concentration');
    expect(adyen?.components.geo_failure_concentration).toBeGreaterThan(0.15);
  }, 60_000);
});
