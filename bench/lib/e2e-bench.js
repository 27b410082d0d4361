/**
 * End-to-end sustained throughput: batch ingest → consumer → file export → XACK, the file read back.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, resetRedis, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { checkRanges, lineCounter, scanExport } from './export-file.js';
import { batchDriver, isoClock } from './load.js';
import { cpuCost, costNote, cpuMeter, groupState, metricValue, redisCommandStats, scrape } from './observe.js';
import { startPayflux } from './processes.js';
import { exportEnv, until, drained } from './pipeline-common.js';

/**
 * 4. End-to-end: batch ingest → consumer → file export → XACK, in one PayFlux process
 * (`PAYFLUX_ROLE=all`, the default deployment), or with `split` in two (ingest + consumer).
 */
export async function benchE2e(ctx, split = false) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const section = split ? 'e2e-split' : 'e2e';
  const { stream } = sectionKeys(section);
  const file = join(ctx.workDir, `${section}.ndjson`);
  const pf = await startPayflux({
    name: section,
    env: exportEnv(ctx, section, split ? 'ingest' : 'all', file),
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
      `${section}: warm-up ${o.e2eWarmS}s, then batch ingest for ${o.e2eSeconds}s with the consumer exporting to a file${split ? ' (ingest and consumer in two processes)' : ''}`,
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
    const cost = cpuCost(meter.read(), meter.elapsed(), r.accepted, ctx.cores);
    const cpu = meter.read();
    const drainedAt = await until(async () => ((await drained(ctx, stream)) ? performance.now() : undefined), {
      everyMs: 20,
      timeoutMs: 60_000,
    });
    const finalState = await groupState(ctx.redis, stream, GROUP);

    const seconds = ((doneAt ?? performance.now()) - started) / 1000;
    const rate = r.accepted / seconds;
    if (!split) ctx.e2eRate = rate;
    const scan = scanExport(file, tag, counter.next);
    const check = checkRanges(scan.seen, [...warm.acceptedRanges, ...r.acceptedRanges]);
    const nothingLost =
      doneAt !== undefined && check.missing === 0 && r.partial.length === 0 && scan.lines >= serverAccepted;
    const ok = nothingLost && drainedAt !== undefined;
    ctx.log(
      `  ${Math.round(rate).toLocaleString('en-US')} events/s end to end (${r.accepted} in ${seconds.toFixed(1)}s; ingest alone ${(r.accepted / r.seconds / 1000).toFixed(0)}k/s over ${r.seconds.toFixed(1)}s), ` +
        `max lag ${maxLag}, drained ${drainedAt !== undefined}, missing ${check.missing}, duplicated ${check.duplicated}`,
    );
    return [
      {
        id: split ? 'e2e_split' : 'e2e',
        what: split
          ? 'end-to-end sustained, ingest and consumer as two processes (PAYFLUX_ROLE=ingest + consumer)'
          : 'end-to-end sustained (batch ingest → consumer → file export, ack after export)',
        value: rate,
        unit: 'events/s',
        baseline: ctx.xaddCeiling,
        baselineWhat: 'pipelined XADD ceiling',
        ratio: ctx.xaddCeiling ? rate / ctx.xaddCeiling : undefined,
        target: '≥ 150,000 events/s, lag drained to 0, nothing lost',
        pass: rate >= 150_000 && ok,
        note: `${ctx.xaddNative ? `${(rate / ctx.xaddNative).toFixed(2)}× the redis-benchmark ceiling; ` : ''}lag max ${maxLag.toLocaleString('en-US')} during load, ${drainedAt !== undefined ? 'drained to 0' : 'NOT drained'}; ${check.missing} of ${check.expected.toLocaleString('en-US')} accepted ids missing, ${check.duplicated} duplicated; ${costNote(cost)}`,
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
