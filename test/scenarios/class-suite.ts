/**
 * Detection quality per traffic class: the adaptive model against the classic model and a
 * textbook CUSUM chart on the same traffic (class-evaluate.ts has the formula). The classes are
 * split over a few test files (`classes-*.test.ts`) so that vitest runs them in parallel
 * workers. `npm test` runs the fast grid (one seed, short days); `npm run scenarios:full` runs
 * the many-seed grid with whole simulated days: each file writes its rows to
 * test-results/classes/, and scripts/classes-table.mjs prints the table of docs/risk-scenarios.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { DETECTORS, runCase } from './class-evaluate.js';
import type { ClassOutcome, Detector } from './class-evaluate.js';
import { CLASSES, FULL_SEEDS, casesOf } from './classes.js';
import type { ClassCase } from './classes.js';

export const FULL = process.env.PAYFLUX_SCENARIOS_FULL === '1';

interface Row {
  readonly cases: number;
  readonly detected: number;
  readonly incidents: number;
  /** Clear anomalies (`ClassCase.clear`) and how many of them were caught: what is asserted. */
  readonly clearDetected: number;
  readonly clearIncidents: number;
  readonly medianSec: number | undefined;
  readonly maxSec: number | undefined;
  readonly warned: number;
  readonly warnMedianSec: number | undefined;
  readonly warnMaxSec: number | undefined;
  readonly falseEpisodesPerDay: number;
  readonly falseWarningsPerDay: number;
}

type Results = Map<string, { c: ClassCase; o: Record<Detector, ClassOutcome> }[]>;

function rowOf(results: Results, klass: string, d: Detector): Row {
  const list = results.get(klass) ?? [];
  const incidents = list.filter((r) => r.c.onsetSec !== undefined);
  const clear = incidents.filter((r) => r.c.clear);
  const times = incidents.map((r) => r.o[d].detectSec).filter((v): v is number => v !== undefined);
  times.sort((a, b) => a - b);
  const warnTimes = incidents.map((r) => r.o[d].warnSec).filter((v): v is number => v !== undefined);
  warnTimes.sort((a, b) => a - b);
  const days = list.reduce((s, r) => s + r.o[d].days, 0);
  const eps = list.reduce((s, r) => s + r.o[d].falseEpisodes, 0);
  const warns = list.reduce((s, r) => s + r.o[d].falseWarnings, 0);
  return {
    cases: list.length,
    detected: times.length,
    incidents: incidents.length,
    clearDetected: clear.filter((r) => r.o[d].detectSec !== undefined).length,
    clearIncidents: clear.length,
    medianSec: times.length > 0 ? times[Math.floor((times.length - 1) / 2)] : undefined,
    maxSec: times.at(-1),
    warned: warnTimes.length,
    warnMedianSec: warnTimes.length > 0 ? warnTimes[Math.floor((warnTimes.length - 1) / 2)] : undefined,
    warnMaxSec: warnTimes.at(-1),
    falseEpisodesPerDay: days > 0 ? eps / days : 0,
    falseWarningsPerDay: days > 0 ? warns / days : 0,
  };
}

/** The suite of the classes named in `names`; `group` names its rows' file in the full run. */
export function classSuite(group: string, names: readonly string[]): void {
  const results: Results = new Map();
  const started = Date.now();
  const classes = CLASSES.filter((c) => names.includes(c.name));
  describe.each(classes.map((c) => ({ name: c.name, description: c.description })))('class $name', ({ name }) => {
    it('adaptive: every clear anomaly caught, no false episode, at most one false warning per processor-day, ahead of both peers', () => {
      const list = casesOf(FULL)
        .filter((c) => c.klass === name)
        .map((c) => ({ c, o: runCase(c) }));
      results.set(name, list);
      for (const { c, o } of list) {
        const where = `${name} ${c.label} seed ${c.seed}`;
        const a = o.adaptive;
        expect(a.falseEpisodes, `${where}: false episodes`).toBe(0);
        expect(a.falseWarnings, `${where}: false warnings`).toBeLessThanOrEqual(Math.max(1, Math.ceil(a.days)));
        if (c.clear) expect(a.detectSec, `${where}: detected`).toBeDefined();
      }
      const a = rowOf(results, name, 'adaptive');
      for (const peer of ['classic', 'cusum'] as const) {
        const p = rowOf(results, name, peer);
        expect(a.clearDetected, `${name}: clear anomalies caught against ${peer}`).toBeGreaterThanOrEqual(
          p.clearDetected,
        );
        if (p.medianSec !== undefined && a.medianSec !== undefined)
          expect(a.medianSec, `${name}: median time to detect against ${peer}`).toBeLessThanOrEqual(p.medianSec);
        expect(a.falseEpisodesPerDay, `${name}: false episodes against ${peer}`).toBeLessThanOrEqual(
          p.falseEpisodesPerDay,
        );
        expect(a.falseWarningsPerDay, `${name}: false warnings against ${peer}`).toBeLessThanOrEqual(
          p.falseWarningsPerDay,
        );
      }
      // Every case of a class runs in this one test: minutes on a loaded machine in the full grid.
    }, 900_000);
  });

  afterAll(() => {
    const rows = tableRows(results);
    console.log(`\n${TABLE_HEAD.join('\n')}\n${rows.join('\n')}\n`);
    if (!FULL) return;
    mkdirSync('test-results/classes', { recursive: true });
    const out = {
      group,
      order: CLASSES.findIndex((c) => c.name === classes[0]?.name),
      rows,
      cases: [...results.values()].reduce((s, l) => s + l.length, 0),
      seeds: FULL_SEEDS,
      seconds: Math.round((Date.now() - started) / 1000),
      cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      node: process.version,
      load: loadavg()[0]?.toFixed(1),
    };
    writeFileSync(`test-results/classes/${group}.json`, `${JSON.stringify(out, null, 2)}\n`);
  });
}

export const TABLE_HEAD = [
  '| class | detector | cases | clear caught | all caught | time to detect (median / max) | warned | time to warning (median / max) | false episodes / day | false warnings / day |',
  '|---|---|---|---|---|---|---|---|---|---|',
];

const sec = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)}s`);

/** The table's rows for the classes in `results`, in class order. */
function tableRows(results: Results): string[] {
  const rows: string[] = [];
  for (const c of CLASSES) {
    if (!results.has(c.name)) continue;
    for (const d of DETECTORS) {
      const r = rowOf(results, c.name, d);
      rows.push(
        `| ${c.name} | ${d} | ${r.cases} | ${r.clearIncidents > 0 ? `${r.clearDetected}/${r.clearIncidents}` : '—'} | ${
          r.incidents > 0 ? `${r.detected}/${r.incidents}` : '—'
        } | ${
          r.incidents > 0 ? `${sec(r.medianSec)} / ${sec(r.maxSec)}` : '—'
        } | ${r.incidents > 0 ? `${r.warned}/${r.incidents}` : '—'} | ${
          r.incidents > 0 ? `${sec(r.warnMedianSec)} / ${sec(r.warnMaxSec)}` : '—'
        } | ${r.falseEpisodesPerDay.toFixed(1)} | ${r.falseWarningsPerDay.toFixed(1)} |`,
      );
    }
  }
  return rows;
}
