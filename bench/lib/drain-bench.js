/**
 * Drain of a preloaded backlog, exported to a file and read back.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, resetRedis, round3, sectionKeys } from './context.js';
import { partitionLayout } from '../../dist/buffer/partitions.js';
import { newTag, PROCESSORS } from './events.js';
import { checkRanges, fileSize, scanExport } from './export-file.js';
import { cpuColumn, cpuCost, costNote, cpuMeter, redisCommandStats } from './observe.js';
import { startPayflux, workerProcesses } from './processes.js';
import { pipelinedXadd } from './redis-load.js';
import { exportEnv, until, drained, medianRun, roundsRow } from './pipeline-common.js';

/**
 * 5. Drain: a preloaded backlog of N events in the processors' partitions (packed as PayFlux's
 * batch ingest stores them: each entry one partition's events), consumed and exported by
 * PAYFLUX_ROLE=consumer, which owns every partition. With `--drain-consumers N` (N > 1) the
 * same drain also by a consumer node of N processes (PAYFLUX_WORKERS=N), alternating with one
 * process for `--drain-rounds` pairs: a row for each, its rate the median of its rounds.
 */
export async function benchDrain(ctx) {
  const consumers = ctx.opts.drainConsumers;
  if (consumers <= 1) return drainOnce(ctx, 1);
  const rows = { one: [], many: [] };
  for (let r = 0; r < ctx.opts.drainRounds; r++) {
    rows.one.push(await drainOnce(ctx, 1));
    rows.many.push(await drainOnce(ctx, consumers));
  }
  return Object.values(rows).flatMap((runs) => {
    const [main, fromStart] = medianRun(runs, (x) => x[0].value);
    return [
      roundsRow(
        runs.map((x) => x[0]),
        main,
      ),
      fromStart,
    ];
  });
}

async function drainOnce(ctx, consumers) {
  const o = ctx.opts;
  const suffix = consumers > 1 ? `_consumers_${consumers}` : '';
  const n = o.drainEvents;
  await resetRedis(ctx);
  const { stream, dlq, prefix } = sectionKeys('drain');
  const layout = partitionLayout({ processors: PROCESSORS, keyPrefix: prefix, stream, dlqStream: dlq });
  const processorRe = /"processor":"([^"]+)"/;
  const streamOf = (payload) => layout.partitionOf(processorRe.exec(payload)?.[1] ?? '')?.stream ?? stream;
  const file = join(ctx.workDir, 'drain.ndjson');
  const tag = newTag();
  for (const p of layout.partitions) await ctx.redis.xgroup('CREATE', p.stream, GROUP, '0', 'MKSTREAM');
  ctx.log(`drain: preloading ${n.toLocaleString('en-US')} events, ${o.drainPack} an entry (pipelined XADD)…`);
  const windowMs = 600_000;
  const pre = await pipelinedXadd(ctx.redis, {
    stream,
    tag,
    total: n,
    chunk: Math.max(1000, o.drainPack * 4),
    inFlight: 4,
    pack: o.drainPack,
    streamOf,
    startMs: Date.now() - windowMs,
    stepMs: windowMs / n,
    deadlineMs: performance.now() + 300_000,
  });
  if (pre.added < n) throw new Error(`preload stopped at ${pre.added} of ${n} entries after 300 s`);
  ctx.log(
    `  preloaded in ${pre.seconds.toFixed(1)}s; starting PAYFLUX_ROLE=consumer${consumers > 1 ? ` PAYFLUX_WORKERS=${consumers}` : ''}`,
  );
  await ctx.redis.config('RESETSTAT');

  let firstLineAt;
  const watch = setInterval(() => {
    if (firstLineAt === undefined && fileSize(file) > 0) firstLineAt = performance.now();
  }, 2);
  const spawnedAt = performance.now();
  let pf;
  try {
    pf = await startPayflux({
      name: 'drain',
      env: exportEnv(ctx, 'drain', 'consumer', file, consumers > 1 ? { PAYFLUX_WORKERS: String(consumers) } : {}),
      workDir: ctx.workDir,
      cpuProf: ctx.profDir,
      nodeArgs: ctx.opts.nodeArgs,
    });
    const procs = consumers > 1 ? workerProcesses(pf.pid) : { payflux: pf.pid };
    const meter = cpuMeter({ ...procs, redis: ctx.redisPid, loadgen: 'self' });
    const doneAt = await until(async () => ((await drained(ctx, stream)) ? performance.now() : undefined), {
      everyMs: 20,
      timeoutMs: Math.max(120_000, n / 10),
    });
    const cpu = meter.read();
    const cost = cpuCost(cpu, meter.elapsed(), n, ctx.cores);
    clearInterval(watch);
    const from = firstLineAt ?? spawnedAt;
    const end = doneAt ?? performance.now();
    const seconds = (end - from) / 1000;
    const fromSpawnS = (end - spawnedAt) / 1000;
    const rate = n / seconds;
    const scan = scanExport(file, tag, n);
    const check = checkRanges(scan.seen, [[0, n]]);
    const ok = doneAt !== undefined && scan.lines >= n && check.missing === 0 && check.duplicated === 0;
    ctx.log(
      `  ${Math.round(rate).toLocaleString('en-US')} events/s (${seconds.toFixed(2)}s from the first export line; ${fromSpawnS.toFixed(2)}s from spawn), lines ${scan.lines}, missing ${check.missing}`,
    );
    const redisTopCommands = await redisCommandStats(ctx.redis);
    const what = `consumer drain of a ${n.toLocaleString('en-US')}-event backlog (decode, risk, export to file, ack)${consumers > 1 ? `, ${consumers} consumer processes (PAYFLUX_WORKERS=${consumers})` : ''}`;
    return [
      {
        id: `drain${suffix}`,
        what,
        value: rate,
        unit: 'events/s',
        vsCeiling: 0.4,
        ok,
        cpu: cpuColumn({ ...cost, cores: cpu }),
        note: `timed from the first export line to lag + pending = 0; ${scan.lines.toLocaleString('en-US')} lines, ${check.missing} missing, ${check.duplicated} duplicated; ${costNote(cost)} (start-up and warm-up included)`,
        details: {
          events: n,
          preloadSeconds: round3(pre.seconds),
          secondsFromFirstLine: round3(seconds),
          secondsFromSpawn: round3(fromSpawnS),
          fileLines: scan.lines,
          missing: check.missing,
          duplicated: check.duplicated,
          cpuCores: cpu,
          cpuCost: cost,
          redisTopCommands,
        },
      },
      {
        id: `drain_from_start${suffix}`,
        what: `${what}, timed from process start`,
        value: n / fromSpawnS,
        unit: 'events/s',
        vsCeiling: true,
        target: 'reference',
        pass: null,
        note: `${fromSpawnS.toFixed(2)} s from spawn to drained, of which ${((from - spawnedAt) / 1000).toFixed(2)} s before the first export line (Node start, connect, risk-window warm-up)`,
      },
    ];
  } finally {
    clearInterval(watch);
    await pf?.stop();
    rmSync(file, { force: true });
    await ctx.redis.del(stream, ...layout.partitions.map((p) => p.stream));
  }
}
