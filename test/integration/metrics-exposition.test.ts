/**
 * `/metrics` of a running PayFlux (pilot mode, alerts and the Risk API on, against a real
 * redis-server): clean for `promtool check metrics`, with build info, labelled counters present
 * at zero from the start, and each processor's last-event time once it has been scored.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEST_KEY, post, startTestApp, useApp } from '../support/app.js';
import { event } from '../support/events.js';
import { defined, poll } from '../support/poll.js';
import { VERSION } from '../../src/version.js';

const suite = useApp({
  PAYFLUX_PILOT_MODE: 'true',
  // Alerts are tier 2.
  PAYFLUX_TIER: 'tier2',
  PAYFLUX_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/alerts',
  PAYFLUX_EXPORT_MODE: 'stdout',
});

const scrape = async (): Promise<string> => (await fetch(`${suite.app.url}/metrics`)).text();
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics', () => {
  it('passes promtool check metrics', async () => {
    const text = await scrape();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });

  it('names the PayFlux and Node.js versions in payflux_build_info', async () => {
    expect(sample(await scrape(), `payflux_build_info{version="${VERSION}",node="${process.versions.node}"}`)).toBe(1);
  });

  it('has every labelled counter at zero before anything happened', async () => {
    const text = await scrape();
    for (const series of [
      'payflux_ingest_rejected_total{reason="validation"}',
      'payflux_ingest_rejected_total{reason="unavailable"}',
      'payflux_ingest_rejected_total{reason="body_too_large"}',
      'payflux_auth_denied_total{reason="missing"}',
      'payflux_auth_denied_total{reason="revoked"}',
      'payflux_consumer_errors_total{stage="read"}',
      'payflux_consumer_errors_total{stage="export"}',
      'payflux_consumer_errors_total{stage="ack"}',
      'payflux_consumer_dlq_total{reason="decode_error"}',
      'payflux_consumer_dlq_total{reason="max_deliveries"}',
      'payflux_stream_evictions_total{reason="ttl"}',
      'payflux_export_errors_total{destination="stdout",reason="EPIPE"}',
      'payflux_events_exported_total{destination="stdout"}',
      'payflux_events_by_processor_total{processor="adyen"}',
      'payflux_processor_risk_events_total{processor="adyen",band="critical"}',
      'payflux_risk_late_events_total{processor="checkout"}',
      'payflux_alert_deliveries_total{destination="webhook",result="failed"}',
      'payflux_alerts_suppressed_total{reason="hourly_cap"}',
      'payflux_risk_api_scans_total{outcome="blocked"}',
      'payflux_risk_api_ssrf_blocks_total{reason="address"}',
      'payflux_risk_api_rate_limited_total{tier="ANONYMOUS"}',
    ])
      expect(sample(text, series), series).toBe(0);
  });

  it('has no gauge named like a counter', async () => {
    const text = await scrape();
    const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]!);
    expect(gauges.filter((g) => g.endsWith('_total'))).toEqual([]);
  });

  it('sets a processor’s last-event time when the consumer scores its events', async () => {
    const before = Date.now() / 1000;
    expect((await post(`${suite.app.url}/v1/events/payment_exhaust`, event({ processor: 'adyen' }))).status).toBe(202);
    const t = await poll(
      'the last-event gauge',
      async () => sample(await scrape(), 'payflux_processor_last_event_timestamp_seconds{processor="adyen"}'),
      defined,
      { timeoutMs: 5000 },
    );
    expect(t).toBeGreaterThanOrEqual(Math.floor(before));
    expect(t).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(sample(await scrape(), 'payflux_events_by_processor_total{processor="adyen"}')).toBe(1);
  });
});

describe('after a restart', () => {
  it('does not count the rebuilt risk window as traffic now', async () => {
    const first = await startTestApp(suite);
    expect((await post(`${first.url}/v1/events/payment_exhaust`, event({ processor: 'checkout' }))).status).toBe(202);
    await poll(
      'the export line',
      () => first.lines.length,
      (n) => n > 0,
      { timeoutMs: 5000 },
    );
    await first.close();
    const second = await startTestApp(suite);
    try {
      const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };
      await poll(
        'the rebuilt window',
        async () => {
          const body = (await (await fetch(`${second.url}/v1/risk/processors`, auth)).json()) as {
            processors: { processor: string }[];
          };
          return body.processors.some((p) => p.processor === 'checkout');
        },
        (found) => found,
        { timeoutMs: 5000 },
      );
      const text = await (await fetch(`${second.url}/metrics`)).text();
      expect(sample(text, 'payflux_processor_last_event_timestamp_seconds{processor="checkout"}')).toBeUndefined();
    } finally {
      await second.close();
    }
  });
});
