/**
 * deploy/grafana/payflux.json: every PromQL query parses (promtool check rules, one recording
 * rule per query) and names only metrics a live PayFlux exposes (pilot mode and alerts on,
 * against a real redis-server, after events went through), and the dashboard covers what an
 * operator looks at first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { post, useApp } from '../support/app.js';
import { event } from '../support/events.js';
import { defined, poll } from '../support/poll.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/payflux.json', import.meta.url), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** A query as Prometheus receives it from Grafana: variables replaced by values of the same kind. */
const asPromQl = (expr: string): string =>
  expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?instance\}?/g, '.*');

const suite = useApp({
  PAYFLUX_PILOT_MODE: 'true',
  // Alerts are tier 2.
  PAYFLUX_TIER: 'tier2',
  PAYFLUX_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/alerts',
});

describe('the Grafana dashboard', () => {
  it('has queries that promtool parses', () => {
    expect(queries.length).toBeGreaterThan(20);
    const dir = mkdtempSync(join(tmpdir(), 'payflux-dashboard-'));
    try {
      const rules = queries.map((q, i) => ({ record: `payflux:dashboard_query_${i}`, expr: asPromQl(q) }));
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = spawnSync('promtool', ['check', 'rules', join(dir, 'queries.yml')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names only metrics a running PayFlux exposes', async () => {
    const url = suite.app.url;
    for (const processor of ['stripe', 'adyen'])
      expect((await post(`${url}/v1/events/payment_exhaust`, event({ processor }))).status).toBe(202);
    const exposed = await poll(
      'events exported and scored',
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const names = new Set(
          text.split('\n').flatMap((l) => (/^(payflux_[a-z0-9_]+)[{ ]/.exec(l)?.[1] ?? []) as string[]),
        );
        return names.has('payflux_processor_last_event_timestamp_seconds') &&
          names.has('payflux_exports_last_success_timestamp_seconds')
          ? names
          : undefined;
      },
      defined,
      { timeoutMs: 5000 },
    );
    const named = [
      ...queries,
      ...dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [v.definition])),
    ].flatMap((q) => [...q.matchAll(/\b(payflux_[a-z0-9_]+)\b/g)].map((m) => m[1]!));
    expect(named.length).toBeGreaterThan(30);
    expect([...new Set(named)].filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('covers ingest, lag, export, latency, risk, incidents, Redis errors and memory', () => {
    const all = queries.join('\n');
    for (const needle of [
      /rate\(payflux_ingest_accepted_total/,
      /sum by \(reason\) \(rate\(payflux_ingest_rejected_total/,
      /payflux_consumer_lag_messages/,
      /payflux_pending_messages/,
      /sum by \(destination\) \(rate\(payflux_events_exported_total/,
      /payflux_export_errors_total/,
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(payflux_end_to_end_latency_seconds_bucket/,
      /payflux_processor_risk_score_last.*payflux_processor_last_event_timestamp_seconds/,
      /sum by \(processor, band\) \(rate\(payflux_processor_risk_events_total/,
      /payflux_incidents_open/,
      /payflux_consumer_errors_total/,
      /payflux_process_resident_memory_bytes/,
    ])
      expect(all).toMatch(needle);
  });

  it('is importable: unique panel ids, every query on the chosen data source', () => {
    expect(dashboard.uid).toBe('payflux');
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}');
  });
});
