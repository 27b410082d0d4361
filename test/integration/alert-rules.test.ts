/** The shipped Prometheus rules are valid and fire as their unit tests say (Debian's promtool). */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics.js';
import { markdownAnchors } from '../support/markdown-anchors.js';

const run = promisify(execFile);
const cwd = new URL('../../deploy/prometheus/', import.meta.url).pathname;

interface Rule {
  alert: string;
  expr: string;
  annotations?: Record<string, string>;
}
const rules = (
  parse(readFileSync(`${cwd}payflux-alerts.yml`, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const unitTests = (
  parse(readFileSync(`${cwd}payflux-alerts.test.yml`, 'utf8')) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  }
).tests.flatMap((t) => t.alert_rule_test);

describe('Prometheus alert rules', () => {
  it('pass promtool check and promtool unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', 'payflux-alerts.yml'], { cwd });
    expect(check.stdout).toContain('SUCCESS');
    const test = await run('promtool', ['test', 'rules', 'payflux-alerts.test.yml'], { cwd });
    expect(test.stdout).toContain('SUCCESS');
  });

  it('each have a unit test where they fire and one where they stay quiet', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const { alert } of rules) {
      const cases = unitTests.filter((t) => t.alertname === alert);
      expect(
        cases.some((t) => t.exp_alerts.length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        cases.some((t) => t.exp_alerts.length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it('each link a runbook section of docs/operations.md', () => {
    const anchors = markdownAnchors(readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8'));
    for (const { alert, annotations } of rules) {
      expect(annotations?.runbook_url, alert).toBe(`docs/operations.md#${alert.toLowerCase()}`);
      expect(anchors, alert).toContain(alert.toLowerCase());
    }
  });

  it('gate every risk alert on the processor having been scored recently', () => {
    for (const { alert, expr } of rules.filter((r) => r.expr.includes('payflux_processor_risk_score_last')))
      expect(expr, alert).toContain('time() - payflux_processor_last_event_timestamp_seconds');
  });

  it('only use metric names PayFlux exports', async () => {
    const names = new Set(
      (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name),
    );
    const text = readFileSync(`${cwd}payflux-alerts.yml`, 'utf8');
    const used = [...new Set([...text.matchAll(/\b(payflux_[a-z_]+)/g)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(names, name).toContain(name);
  });
});
