/**
 * The results: one table (stdout and Markdown) plus the machine it ran on, and the full
 * details as JSON. Absolute numbers mean nothing without the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

export function machineInfo(redisVersion) {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
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

function cells(r) {
  return [
    r.what,
    measured(r),
    r.baseline === undefined ? '—' : `${num(r.baseline)} ${r.unit} (${r.baselineWhat})`,
    r.ratio === undefined || Number.isNaN(r.ratio) ? '—' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '—',
    r.skipped ? 'skipped' : r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL',
  ];
}

const HEAD = ['what', 'measured', 'baseline (same run)', 'ratio', 'target', 'result'];

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
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, Node ${m.node}, Redis ${m.redis}, ${m.os}, ${m.date}${noise}`;
}

function markdown(report) {
  const esc = (s) => s.replaceAll('|', '\\|');
  const out = [
    `# PayFlux benchmark results (${report.mode})`,
    '',
    `Machine: ${machineLine(report.machine)}. The load generator runs on the same machine.`,
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

/** Write bench/results/latest.json and latest.md. */
export function writeReport(dir, report) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(dir, 'latest.md'), markdown(report));
}
