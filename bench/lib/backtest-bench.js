/**
 * `payflux backtest` throughput: a recorded NDJSON file of
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

/** One `payflux backtest` of `file` with `model`: rate by the command's clock, CPU, the export checked. */
async function runOnce(ctx, { file, outPath, reportPath, tag, n, model }) {
  const meter = cpuMeter({}, { reaped: 'payflux' });
  const r = await runBacktestCli({
    file,
    outPath,
    reportPath,
    workDir: ctx.workDir,
    cpuProf: model === 'adaptive' ? ctx.profDir : undefined,
    env: { ...ctx.opts.payfluxEnv, PAYFLUX_RISK_MODEL: model },
  });
  const cpu = meter.read();
  const cost = cpuCost(cpu, meter.elapsed(), n, ctx.cores);
  if (r.code !== 0)
    throw new Error(`payflux backtest exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  const said = /backtest: (\d+) events \((\d+) skipped\) in (\d+) ms/.exec(r.stderr);
  const runMs = said ? Number(said[3]) : r.wallMs;
  const check = await checkExport(outPath, tag, n);
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const intact = check.lines === n && check.missing === 0 && check.duplicated === 0 && report.events === n;
  return { model, rate: n / (runMs / 1000), runMs, wallMs: r.wallMs, cpu, cost, check, report, intact };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The same file through the adaptive model (the default) and the classic one, alternating, two
 * pairs: the adaptive model's rate against the absolute target, and the two models' CPU per
 * event side by side (what the adaptive model's evidence and segment cells cost).
 */
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
    const runs = [];
    for (const model of ['adaptive', 'classic', 'adaptive', 'classic']) {
      ctx.log(`backtest: running payflux backtest, ${model} model`);
      runs.push(await runOnce(ctx, { file, outPath, reportPath, tag, n, model }));
    }
    const adaptive = runs.filter((r) => r.model === 'adaptive');
    const classic = runs.filter((r) => r.model === 'classic');
    const cpuOf = (r) => r.cost.usPerEvent.payflux;
    const ratios = adaptive.map((a, i) => cpuOf(classic[i]) / cpuOf(a));
    const ratio = median(ratios);
    const best = adaptive.reduce((a, b) => (b.rate > a.rate ? b : a));
    const rate = median(adaptive.map((r) => r.rate));
    const intact = runs.every((r) => r.intact);
    const { check, report } = best;
    const note = `${(bytes / 1e6).toFixed(0)} MB in, ${check.lines.toLocaleString('en-US')} lines out, ${check.missing} missing, ${check.duplicated} duplicated; ${report.incidents.length} incidents; median of ${adaptive.length} runs (${adaptive.map((r) => Math.round(r.rate / 1000) + 'k').join(', ')}), timed by the command's own clock (file open → last line written)`;
    const us = (r) => cpuOf(r).toFixed(2);
    return [
      {
        id: 'backtest',
        what: `payflux backtest of a ${n.toLocaleString('en-US')}-event file (validate, risk, tier, incidents, export lines to a file)`,
        value: rate,
        unit: 'events/s',
        target: '≥ 300,000 events/s',
        pass: intact && rate >= 300_000,
        cpu: cpuColumn({ ...best.cost, cores: best.cpu }),
        note: intact ? note : `INCOMPLETE: ${note}`,
        details: {
          events: n,
          bytes,
          runs: runs.map((r) => ({
            model: r.model,
            runMs: r.runMs,
            wallMs: Math.round(r.wallMs),
            eventsPerSec: Math.round(r.rate),
            cpuCores: r.cpu,
            cpuCost: r.cost,
            check: r.check,
            incidents: r.report.incidents.length,
          })),
        },
      },
      {
        id: 'backtest-models',
        what: 'payflux backtest, the adaptive model against the classic one (CPU per event, same file, alternating)',
        value: median(adaptive.map(cpuOf)),
        unit: 'µs/event',
        display: `${median(adaptive.map(cpuOf)).toFixed(2)} µs/event`,
        baseline: median(classic.map(cpuOf)),
        baselineDisplay: `${median(classic.map(cpuOf)).toFixed(2)} µs/event`,
        baselineWhat: 'classic model',
        ratio,
        target: 'reference (what the adaptive model costs over the classic)',
        pass: intact ? null : false,
        cpu: cpuColumn({ ...best.cost, cores: best.cpu }),
        note: `PayFlux CPU µs/event, adaptive ${adaptive.map(us).join(', ')} against classic ${classic.map(us).join(', ')}; pairs ${ratios.map((x) => x.toFixed(2)).join(', ')}`,
        details: { ratios, adaptiveUs: adaptive.map(cpuOf), classicUs: classic.map(cpuOf) },
      },
    ];
  } finally {
    rmSync(file, { force: true });
    rmSync(outPath, { force: true });
  }
}
