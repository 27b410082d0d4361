/** The shipped Prometheus rules are valid and fire as their unit tests say (Debian's promtool). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cwd = new URL('../../deploy/prometheus/', import.meta.url).pathname;

describe('Prometheus alert rules', () => {
  it('pass promtool check and promtool unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', 'payflux-alerts.yml'], { cwd });
    expect(check.stdout).toContain('SUCCESS');
    const test = await run('promtool', ['test', 'rules', 'payflux-alerts.test.yml'], { cwd });
    expect(test.stdout).toContain('SUCCESS');
  });

  it('only use metric names PayFlux exports', async () => {
    const { readFileSync } = await import('node:fs');
    const { createMetrics } = await import('../../src/metrics.js');
    const names = new Set(
      (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name),
    );
    const rules = readFileSync(`${cwd}payflux-alerts.yml`, 'utf8');
    const used = [...new Set([...rules.matchAll(/\b(payflux_[a-z_]+)/g)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(names, name).toContain(name);
  });
});
