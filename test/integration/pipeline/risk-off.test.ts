import { describe, expect, it } from 'vitest';
import { post, useApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { getJson } from '../../support/probes.js';
import { poll } from '../../support/poll.js';

const suite = useApp({ PAYFLUX_RISK_SCORE_ENABLED: 'false', PAYFLUX_TIER: 'tier2' });

describe('PAYFLUX_RISK_SCORE_ENABLED=false', () => {
  it('exports every event without risk or tier fields, and reports no live risk state', async () => {
    const events = Array.from({ length: 40 }, () => event({ failure_category: 'gateway_timeout', retry_count: 3 }));
    const res = await post(`${suite.app.url}/v1/events/batch`, events);
    expect(res.status).toBe(200);
    const lines = await poll(
      'the export lines',
      () => suite.app.lines.filter((l) => events.some((e) => e.event_id === l.event_id)),
      (got) => got.length === events.length,
    );
    for (const line of lines) {
      expect(line).toMatchObject({ type: 'payment_event', processor: 'stripe' });
      expect(
        Object.keys(line).filter(
          (k) => k.startsWith('processor_risk') || k.includes('playbook') || k.includes('trajectory'),
        ),
      ).toEqual([]);
    }
    const risk = await fetch(`${suite.app.url}/v1/risk/processors`, {
      headers: { authorization: 'Bearer test-key-0123456789abcdef' },
    });
    expect(await risk.json()).toMatchObject({ live: false, processors: [] });
    expect((await getJson(`${suite.app.url}/ready`)).status).toBe(200);
  });
});
