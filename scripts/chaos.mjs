#!/usr/bin/env node
// `npm run chaos`: every chaos scenario at full size, then the figures table (Markdown) of this
// run, from test-results/chaos.jsonl, as docs/operations.md shows it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const RESULTS = 'test-results/chaos.jsonl';
rmSync(RESULTS, { force: true });
const run = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.chaos.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
const rows = existsSync(RESULTS)
  ? readFileSync(RESULTS, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
  : [];
const cell = (v) => (v === null || v === undefined ? '—' : String(v));
console.log(
  `\nChaos figures (${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, load ${loadavg()[0].toFixed(1)}, Node ${process.versions.node}):\n`,
);
console.log('| scenario | sent | acked | exported | lost | duplicated | 5xx | peak RSS MB | recover s | notes |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const recover = typeof r.recoverSec === 'number' ? r.recoverSec.toFixed(1) : r.recoverSec;
  console.log(
    `| ${r.scenario} | ${r.sent} | ${r.acked} | ${r.exported} | ${r.lost} | ${r.duplicated} | ${r.fivexx} | ${r.peakRssMb} | ${cell(recover)} | ${r.note} |`,
  );
}
process.exit(run.status ?? 1);
