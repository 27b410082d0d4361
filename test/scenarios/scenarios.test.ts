/**
 * The risk scenario suite (issue 4): every scenario, three seeds, both models. The adaptive
 * model must meet every expectation; the classic model is a comparison row only. The table in
 * docs/risk-scenarios.md is printed by this file: `npx vitest run test/scenarios`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RiskModelName } from '../../src/risk-terms.js';
import { run, traffic } from './evaluate.js';
import type { Outcome } from './evaluate.js';
import { SCENARIOS } from './scenarios.js';
import type { Scenario } from './scenarios.js';

const SEEDS = [1, 2, 3];
const MODELS: readonly RiskModelName[] = ['adaptive', 'classic'];
const outcomes = new Map<string, Outcome[]>();

/** Runs every seed of `s` once, for both models on the same traffic. */
function outcomesOf(s: Scenario, model: RiskModelName): Outcome[] {
  if (!outcomes.has(`${s.name}/${model}`)) {
    for (const seed of SEEDS) {
      const envs = traffic(s, seed);
      for (const m of MODELS)
        outcomes.set(`${s.name}/${m}`, [...(outcomes.get(`${s.name}/${m}`) ?? []), run(s, envs, m)]);
    }
  }
  return outcomes.get(`${s.name}/${model}`) ?? [];
}

const within = (v: number | undefined, limit: number) => v !== undefined && v <= limit;

describe.each(SCENARIOS)('scenario $name', (s) => {
  it(`adaptive: ${s.description}`, () => {
    const e = s.expect;
    outcomesOf(s, 'adaptive').forEach((o, i) => {
      const where = `${s.name} (seed ${SEEDS[i]})`;
      expect(o.falsePositives, `${where}: false-positive episodes`).toEqual([]);
      expect(o.controlFalsePositives, `${where}: control processor episodes`).toEqual([]);
      if (e.elevatedWithinSec !== undefined)
        expect(within(o.elevatedSec, e.elevatedWithinSec), `${where}: elevated after ${o.elevatedSec}s`).toBe(true);
      if (e.highWithinSec !== undefined)
        expect(within(o.highSec, e.highWithinSec), `${where}: high after ${o.highSec}s`).toBe(true);
      if (e.criticalWithinSec !== undefined)
        expect(within(o.criticalSec, e.criticalWithinSec), `${where}: critical after ${o.criticalSec}s`).toBe(true);
      if (e.flaggedBeforeSec !== undefined)
        expect(within(o.elevatedSec, e.flaggedBeforeSec), `${where}: flagged after ${o.elevatedSec}s`).toBe(true);
      if (e.drivers !== undefined) {
        const deadline = e.elevatedWithinSec ?? e.highWithinSec ?? e.flaggedBeforeSec ?? 60;
        expect(
          within(o.driversSec, deadline),
          `${where}: drivers ${e.drivers.join(',')} after ${o.driversSec}s (seen ${o.driversSeen.join(',')})`,
        ).toBe(true);
      }
      if (e.recoverWithinSec !== undefined)
        expect(within(o.recoverSec, e.recoverWithinSec), `${where}: back to low after ${o.recoverSec}s`).toBe(true);
      if (s.onsetSec === undefined) expect(o.elevatedSec).toBeUndefined();
    });
  });

  it('classic runs as the comparison row, on the same traffic', () => {
    const classic = outcomesOf(s, 'classic');
    expect(classic.map((o) => o.events)).toEqual(outcomesOf(s, 'adaptive').map((o) => o.events));
  });
});

afterAll(() => {
  console.log(`\n${table()}\n`);
});

function fmt(values: (number | undefined)[], unit = 's'): string {
  const defined = values.filter((v): v is number => v !== undefined);
  if (defined.length === 0) return '—';
  const max = Math.max(...defined);
  const missing = values.length - defined.length;
  return `${Math.round(max)}${unit}${missing > 0 ? ` (${missing} missed)` : ''}`;
}

/** The markdown table of docs/risk-scenarios.md: worst case over the seeds. */
export function table(): string {
  const rows = [
    '| scenario | model | elevated | high | critical | expected drivers | false positives | back to low | peak | quiet peak |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of SCENARIOS) {
    for (const m of MODELS) {
      const list = outcomes.get(`${s.name}/${m}`) ?? [];
      if (list.length === 0) continue;
      const fp = list.reduce((n, o) => n + o.falsePositives.length + o.controlFalsePositives.length, 0);
      const incident = s.onsetSec !== undefined;
      rows.push(
        [
          s.name,
          m,
          incident ? fmt(list.map((o) => o.elevatedSec)) : '—',
          incident ? fmt(list.map((o) => o.highSec)) : '—',
          incident ? fmt(list.map((o) => o.criticalSec)) : '—',
          s.expect.drivers ? fmt(list.map((o) => o.driversSec)) : '—',
          String(fp),
          incident ? fmt(list.map((o) => o.recoverSec)) : '—',
          incident ? Math.min(...list.map((o) => o.peakScore)).toFixed(2) : '—',
          Math.max(...list.map((o) => o.quietPeak)).toFixed(2),
        ]
          .join(' | ')
          .replace(/^/, '| ')
          .concat(' |'),
      );
    }
  }
  return rows.join('\n');
}
