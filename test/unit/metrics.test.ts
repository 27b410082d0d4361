import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';

describe('createMetrics', () => {
  it('reads payflux_append_pending_events at scrape time, not when a round trip ends', async () => {
    const m = createMetrics({ defaultMetrics: false });
    let pending = 7;
    m.readAppendPendingFrom(() => pending);
    expect(await m.registry.getSingleMetricAsString('payflux_append_pending_events')).toContain(
      'payflux_append_pending_events 7',
    );
    pending = 0;
    expect(await m.registry.getSingleMetricAsString('payflux_append_pending_events')).toContain(
      'payflux_append_pending_events 0',
    );
  });

  it('starts each configured processor’s counters at zero in every band', async () => {
    const m = createMetrics({ defaultMetrics: false, processors: ['stripe', 'adyen'] });
    const risk = (await m.registry.getSingleMetric('payflux_processor_risk_events_total')?.get())?.values ?? [];
    expect(risk).toHaveLength(8);
    expect(risk.every((v) => v.value === 0)).toBe(true);
  });

  it('drops prom-client’s gauges named …_total and keeps their per-type gauges', async () => {
    const m = createMetrics();
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names).not.toContain('payflux_nodejs_active_handles_total');
    expect(names).toContain('payflux_nodejs_active_handles');
  });
});
