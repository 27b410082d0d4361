/**
 * The results: one table (stdout and Markdown) plus the machine it ran on, and the full
 * details as JSON. Absolute numbers mean nothing without the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** `childNode`: the Node version PayFlux and the baselines run on; `node`: the load generator's. */
export function machineInfo(redisVersion, childNode) {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    childNode,
    node: process.version,
    redis: redisVersion,
    os: `${process.platform} ${release()}`,
    date: new Date().toISOString(),
  };
}

const num = (x) => Math.round(x).toLocaleString('en-US');

function measured(r) {
  if (r.skipped) return 'skipped';
  if (r.display) return r.display;
  if (r.value === undefined || Number.isNaN(r.value)) return 'n/a';
  return `${num(r.value)} ${r.unit}`;
}

/** µs per event of each process, PayFlux first (its name varies: payflux, durable, empty). */
function cpuCell(r) {
  const us = r.cpu?.us;
  if (!us) return '—';
  return Object.entries(us)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(' · ');
}

function cells(r) {
  return [
    r.what,
    measured(r),
    r.baseline === undefined ? '—' : `${r.baselineDisplay ?? `${num(r.baseline)} ${r.unit}`} (${r.baselineWhat})`,
    r.ratio === undefined || Number.isNaN(r.ratio) ? '—' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '—',
    r.skipped ? 'skipped' : r.pass === null || r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'FAIL',
    cpuCell(r),
    r.cpu?.other === null || r.cpu?.other === undefined ? '—' : r.cpu.other.toFixed(2),
  ];
}

const HEAD = ['what', 'measured', 'baseline (same run)', 'ratio', 'target', 'result', 'CPU µs/event', 'other cores'];

export function textTable(rows) {
  const table = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.min(70, Math.max(...table.map((row) => row[i].length))));
  const line = (row) =>
    row.map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i]))).join('  ');
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}

export function machineLine(m) {
  const noise =
    (m.backgroundCpuAtStart === undefined ? '' : `; other processes used ${m.backgroundCpuAtStart} cores at start`) +
    (m.stealCoresDuringRun === undefined
      ? ''
      : `; the hypervisor stole ${m.stealCoresDuringRun} cores on average during the run`);
  const node = m.childNode === m.node ? `Node ${m.node}` : `PayFlux on Node ${m.childNode} (load generator ${m.node})`;
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${node}, Redis ${m.redis}, ${m.os}, ${m.date}${noise}`;
}

function markdown(report) {
  const esc = (s) => s.replaceAll('|', '\\|');
  const out = [
    `# PayFlux benchmark results (${report.mode})`,
    '',
    `Machine: ${machineLine(report.machine)}. The load generator runs on the same machine.`,
    '',
    'Ratios: each figure over a baseline measured in this run; "CPU µs/event": CPU time per event (per request for single-event ingest) of each process; "other cores": what processes outside the benchmark used meanwhile (2.0 = both cores).',
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...report.results.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
    '',
  ];
  const notes = report.results.filter((r) => r.note);
  if (notes.length > 0) {
    out.push('Notes:', '');
    for (const r of notes) out.push(`- **${r.id}**: ${r.note}`);
    out.push('');
  }
  const cpuRows = report.results.filter((r) => r.details?.cpuCores);
  if (cpuRows.length > 0) {
    out.push('CPU used during each measurement (cores; 1.0 = one full core):', '');
    for (const r of cpuRows) out.push(`- ${r.id}: ${JSON.stringify(r.details.cpuCores)}`);
    out.push('');
  }
  out.push(`Settings: ${JSON.stringify(report.settings)}`, '');
  return out.join('\n');
}

/** Write `<dir>/<name>.json` and `<name>.md` (`latest` by default). */
export function writeReport(dir, name, report) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(dir, `${name}.md`), markdown(report));
}
