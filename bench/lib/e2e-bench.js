/**
 * End-to-end sustained throughput: batch ingest → consumer → file export → XACK, the file read back.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, resetRedis, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { checkRanges, lineCounter, scanExport } from './export-file.js';
import { batchDriver, isoClock } from './load.js';
import {
  cpuColumn,
  cpuCost,
  costNote,
  cpuMeter,
  groupState,
  metricValue,
  redisCommandStats,
  scrape,
} from './observe.js';
import { startPayflux, workerProcesses } from './processes.js';
import { exportEnv, until, drained, medianRun, roundsRow } from './pipeline-common.js';

/**
 * 4. End-to-end: batch ingest → consumer → file export → XACK, in one PayFlux process
 * (`variant` 'one': `PAYFLUX_ROLE=all`, the default deployment), in two started apart
 * ('split': ingest + consumer), or in one command with `PAYFLUX_WORKERS=<ctx.opts.e2eWorkers>`
 * ('workers': a supervisor, its ingest workers and a consumer process).
 */
export async function benchE2e(ctx, variant = 'one') {
  const o = ctx.opts;
  await resetRedis(ctx);
  const split = variant === 'split';
  const workers = variant === 'workers' ? o.e2eWorkers : 1;
  const section = variant === 'one' ? 'e2e' : `e2e-${variant}`;
  const { stream } = sectionKeys(section);
  const file = join(ctx.workDir, `${section}.ndjson`);
  const pf = await startPayflux({
    name: section,
    env: exportEnv(
      ctx,
      section,
      split ? 'ingest' : 'all',
      file,
      workers > 1 ? { PAYFLUX_WORKERS: String(workers) } : {},
    ),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: ctx.opts.nodeArgs,
  });
  let consumer;
  try {
    if (split)
      consumer = await startPayflux({
        name: `${section}-consumer`,
        env: exportEnv(ctx, section, 'consumer', file),
        workDir: ctx.workDir,
        cpuProf: ctx.profDir,
        nodeArgs: ctx.opts.nodeArgs,
      });
  } catch (err) {
    await pf.stop();
    throw err;
  }
  const clock = isoClock();
  const lines = lineCounter(file);
  try {
    const tag = newTag();
    const template = bodyTemplate(tag, o.batchSize);
    const { counter, drive } = batchDriver(ctx, pf.url, template, clock);
    ctx.log(
      `${section}: warm-up ${o.e2eWarmS}s, then batch ingest for ${o.e2eSeconds}s with the consumer exporting to a file${split ? ' (ingest and consumer in two processes)' : workers > 1 ? ` (PAYFLUX_WORKERS=${workers})` : ''}`,
    );
    const warm = await drive(o.e2eWarmS);
    await until(async () => lines.poll() >= warm.accepted && (await drained(ctx, stream)), {
      everyMs: 50,
      timeoutMs: 60_000,
    });

    let maxLag = 0;
    let maxPending = 0;
    const sampler = setInterval(() => {
      groupState(ctx.redis, stream, GROUP).then(
        (g) => {
          if (g) {
            maxLag = Math.max(maxLag, g.lag || 0);
            maxPending = Math.max(maxPending, g.pending);
          }
        },
        () => undefined,
      );
    }, 500);
    const meter = cpuMeter(
      consumer
        ? { payflux: pf.pid, consumer: consumer.pid, redis: ctx.redisPid, loadgen: 'self' }
        : workers > 1
          ? { ...workerProcesses(pf.pid), redis: ctx.redisPid, loadgen: 'self' }
          : { payflux: pf.pid, redis: ctx.redisPid, loadgen: 'self' },
    );
    const started = performance.now();
    const r = await drive(o.e2eSeconds);
    const loadEnded = performance.now();
    clearInterval(sampler);
    // Every request was answered, so the server's counter is every stored event (warm-up included).
    const serverAccepted = metricValue(await scrape(pf.url), 'payflux_ingest_accepted_total');
    const doneAt = await until(() => (lines.poll() >= serverAccepted ? performance.now() : undefined), {
      everyMs: 10,
      timeoutMs: 120_000,
    });
    const cpu = meter.read();
    const cost = cpuCost(cpu, meter.elapsed(), r.accepted, ctx.cores);
    const drainedAt = await until(async () => ((await drained(ctx, stream)) ? performance.now() : undefined), {
      everyMs: 20,
      timeoutMs: 60_000,
    });
    const finalState = await groupState(ctx.redis, stream, GROUP);

    const seconds = ((doneAt ?? performance.now()) - started) / 1000;
    const rate = r.accepted / seconds;
    if (variant === 'one') ctx.e2eRate = rate;
    const restarts = workers > 1 ? (pf.logTail().match(/"msg":"worker_exited"/g) ?? []).length : 0;
    const scan = scanExport(file, tag, counter.next);
    const check = checkRanges(scan.seen, [...warm.acceptedRanges, ...r.acceptedRanges]);
    const nothingLost =
      doneAt !== undefined && check.missing === 0 && r.partial.length === 0 && scan.lines >= serverAccepted;
    const ok = nothingLost && check.duplicated === 0 && drainedAt !== undefined && restarts === 0;
    ctx.log(
      `  ${Math.round(rate).toLocaleString('en-US')} events/s end to end (${r.accepted} in ${seconds.toFixed(1)}s; ingest alone ${(r.accepted / r.seconds / 1000).toFixed(0)}k/s over ${r.seconds.toFixed(1)}s), ` +
        `max lag ${maxLag}, drained ${drainedAt !== undefined}, missing ${check.missing}, duplicated ${check.duplicated}`,
    );
    return [
      {
        id: variant === 'one' ? 'e2e' : `e2e_${variant}`,
        what: split
          ? 'end-to-end sustained, ingest and consumer as two processes (PAYFLUX_ROLE=ingest + consumer)'
          : workers > 1
            ? `end-to-end sustained, one command with PAYFLUX_WORKERS=${workers} (supervisor, ${workers - 1} ingest, 1 consumer)`
            : 'end-to-end sustained (batch ingest → consumer → file export, ack after export)',
        value: rate,
        unit: 'events/s',
        vsCeiling: 0.2,
        targetMore: ', lag drained to 0, nothing lost or duplicated',
        ok,
        cpu: cpuColumn({ ...cost, cores: cpu }),
        note: `${restarts > 0 ? `${restarts} WORKER RESTARTS; ` : ''}lag max ${maxLag.toLocaleString('en-US')} events during load, ${drainedAt !== undefined ? 'drained to 0' : 'NOT drained'}; ${check.missing} of ${check.expected.toLocaleString('en-US')} accepted ids missing, ${check.duplicated} duplicated; ${costNote(cost)}`,
        details: {
          accepted: r.accepted,
          ingestSeconds: round3(r.seconds),
          ingestRate: Math.round(r.accepted / r.seconds),
          catchUpSeconds: doneAt === undefined ? null : round3((doneAt - loadEnded) / 1000),
          totalSeconds: round3(seconds),
          maxLag,
          maxPending,
          finalGroupState: finalState,
          fileLines: scan.lines,
          serverAccepted,
          missing: check.missing,
          duplicated: check.duplicated,
          statuses: r.statuses,
          cpuCores: cpu,
          cpuCost: cost,
          redisTopCommands: await redisCommandStats(ctx.redis),
        },
      },
    ];
  } finally {
    clock.stop();
    lines.close();
    await Promise.all([pf.stop(), consumer?.stop()]);
    rmSync(file, { force: true });
  }
}

/**
 * 4b. One process against `PAYFLUX_WORKERS=N`, alternating (one, N, one, N, …) so that both
 * see the same machine: a row for each, its rate the median of its rounds.
 */
export async function benchE2eAlternating(ctx) {
  const rows = { one: [], workers: [] };
  for (let r = 0; r < ctx.opts.e2eRounds; r++)
    for (const variant of ['one', 'workers']) rows[variant].push(...(await benchE2e(ctx, variant)));
  return Object.values(rows).map((runs) =>
    roundsRow(
      runs,
      medianRun(runs, (x) => x.value),
    ),
  );
}
