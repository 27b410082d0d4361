#!/usr/bin/env node
/**
 * Prints the detection-quality table of docs/risk-scenarios.md from the rows the class suite files
 * wrote to test-results/classes/ (`npm run scenarios:full`), in class order, with the run's
 * seeds, wall time and machine.
 */
import { readFileSync, readdirSync } from 'node:fs';

const dir = 'test-results/classes';
const parts = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')))
  .sort((a, b) => a.order - b.order);
if (parts.length === 0) throw new Error(`no rows in ${dir}: run npm run scenarios:full`);
console.log(
  '| class | detector | cases | clear caught | all caught | time to detect (median / max) | warned | time to warning (median / max) | false episodes / day | false warnings / day |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const p of parts) for (const row of p.rows) console.log(row);
const first = parts[0];
console.log(
  `\n${parts.reduce((s, p) => s + p.cases, 0)} cases, ${first.seeds} seeds each; ${parts
    .map((p) => `${p.group} ${p.seconds} s`)
    .join(', ')} (files in parallel); ${first.cpu}, Node ${first.node}, load average ${first.load}`,
);
