/**
 * `payflux backtest` throughput (issue 4: ≥ 300k events/s): a recorded NDJSON file of
 * realistic events through the live operators (validation, risk window, tier enrichment,
 * incidents) and the export serializer, export lines written to a file.
 */
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { newTag, eventIdPrefix, storedPayloads, ID_DIGITS } from './events.js';
import { runBacktestCli } from './processes.js';
import { cpuColumn, cpuCost, cpuMeter } from './observe.js';

const CHUNK = 10_000;

/** Write `n` events, in event-time order over the 10 minutes before now, one per line. */
async function writeEvents(path, tag, n) {
  const out = createWriteStream(path);
  const start = Date.now() - 600_000;
  const step = 600_000 / n;
  for (let i = 0; i < n; i += CHUNK) {
    const lines = storedPayloads(tag, i, Math.min(CHUNK, n - i), start + i * step, step);
    if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Export lines and ids seen once, more than once, or not at all, read back from `path`. */
async function checkExport(path, tag, n) {
  const seen = new Uint8Array(n);
  const prefix = `"event_id":"${eventIdPrefix(tag)}`;
  let lines = 0;
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      const at = text.indexOf(prefix, from);
      if (at !== -1 && at < nl) {
        const id = Number(text.slice(at + prefix.length, at + prefix.length + ID_DIGITS));
        if (id < n) seen[id] = Math.min(2, seen[id] + 1);
      }
      lines++;
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  let missing = 0;
  let duplicated = 0;
  for (const s of seen) {
    if (s === 0) missing++;
    else if (s > 1) duplicated++;
  }
  return { lines, missing, duplicated };
}

export async function benchBacktest(ctx) {
  const n = ctx.opts.backtestEvents;
  const tag = newTag();
  const file = join(ctx.workDir, 'backtest.ndjson');
  const outPath = join(ctx.workDir, 'backtest.out.ndjson');
  const reportPath = join(ctx.workDir, 'backtest.report.json');
  ctx.log(`backtest: writing ${n.toLocaleString('en-US')} events`);
  await writeEvents(file, tag, n);
  const bytes = statSync(file).size;
  try {
    ctx.log('backtest: running payflux backtest');
    const meter = cpuMeter({}, { reaped: 'payflux' });
    const r = await runBacktestCli({
      file,
      outPath,
      reportPath,
      workDir: ctx.workDir,
      cpuProf: ctx.profDir,
      env: ctx.opts.payfluxEnv,
    });
    const cpu = meter.read();
    const cost = cpuCost(cpu, meter.elapsed(), n, ctx.cores);
    if (r.code !== 0)
      throw new Error(`payflux backtest exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    const said = /backtest: (\d+) events \((\d+) skipped\) in (\d+) ms/.exec(r.stderr);
    const runMs = said ? Number(said[3]) : r.wallMs;
    const check = await checkExport(outPath, tag, n);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    const rate = n / (runMs / 1000);
    const fromStart = n / (r.wallMs / 1000);
    const intact = check.lines === n && check.missing === 0 && check.duplicated === 0 && report.events === n;
    const note = `${(bytes / 1e6).toFixed(0)} MB in, ${check.lines.toLocaleString('en-US')} lines out, ${check.missing} missing, ${check.duplicated} duplicated; ${report.incidents.length} incidents; timed by the command's own clock (file open → last line written)`;
    return [
      {
        id: 'backtest',
        what: `payflux backtest of a ${n.toLocaleString('en-US')}-event file (validate, risk, tier, incidents, export lines to a file)`,
        value: rate,
        unit: 'events/s',
        target: '≥ 300,000 events/s (issue 4)',
        pass: intact && rate >= 300_000,
        cpu: cpuColumn({ ...cost, cores: cpu }),
        note: intact ? note : `INCOMPLETE: ${note}`,
        details: {
          events: n,
          bytes,
          runMs,
          wallMs: Math.round(r.wallMs),
          eventsPerSecFromSpawn: Math.round(fromStart),
          check,
          cpuCores: cpu,
          cpuCost: cost,
          incidents: report.incidents.length,
        },
      },
    ];
  } finally {
    rmSync(file, { force: true });
    rmSync(outPath, { force: true });
  }
}
