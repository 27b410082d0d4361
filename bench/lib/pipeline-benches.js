/**
 * The consumer half: end-to-end sustained throughput, drain of a preloaded backlog, latency at
 * a fixed 10k events/s, and the RSS soak. PayFlux exports to a file in the work directory with
 * ack after export (the default), and the file is read back to prove nothing was lost.
 */
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_PATH, GROUP, jsonHeaders, payfluxEnv, resetRedis, round1, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { checkRanges, fileSize, lineCounter, scanExport, tailIds } from './export-file.js';
import { closedLoopBatches, idCounter, isoClock, pacedBatches } from './load.js';
import {
  cpuCost,
  costNote,
  cpuMeter,
  groupState,
  histogram,
  histogramDelta,
  histogramQuantile,
  metricValue,
  quantile,
  redisCommandStats,
  scrape,
} from './observe.js';
import { rssMb, sleep, startPayflux } from './processes.js';
import { pipelinedXadd } from './redis-load.js';

const LATENCY_METRIC = 'payflux_end_to_end_latency_seconds';

function exportEnv(ctx, section, role, file, extra = {}) {
  return payfluxEnv(ctx, section, {
    PAYFLUX_ROLE: role,
    PAYFLUX_EXPORT_MODE: 'file',
    PAYFLUX_EXPORT_FILE: file,
    PAYFLUX_ACK_MODE: 'after_export',
    ...extra,
  });
}

/** Poll `check()` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
async function until(check, { everyMs, timeoutMs }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

async function drained(ctx, stream) {
  const g = await groupState(ctx.redis, stream, GROUP);
  return g !== undefined && g.pending === 0 && g.lag === 0;
}

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
    const counter = idCounter();
    const drive = (seconds) =>
      closedLoopBatches({
        url: pf.url,
        path: BATCH_PATH,
        headers: jsonHeaders(ctx),
        template,
        counter,
        clock,
        connections: o.batchConnections,
        seconds,
        maxRequests: seconds * 2000,
      });
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

/** 5. Drain: a preloaded backlog of N entries, consumed and exported by PAYFLUX_ROLE=consumer. */
export async function benchDrain(ctx) {
  const o = ctx.opts;
  const n = o.drainEvents;
  await resetRedis(ctx);
  const { stream } = sectionKeys('drain');
  const file = join(ctx.workDir, 'drain.ndjson');
  const tag = newTag();
  await ctx.redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
  ctx.log(`drain: preloading ${n.toLocaleString('en-US')} entries (pipelined XADD)…`);
  const windowMs = 600_000;
  const pre = await pipelinedXadd(ctx.redis, {
    stream,
    tag,
    total: n,
    chunk: 1000,
    inFlight: 4,
    startMs: Date.now() - windowMs,
    stepMs: windowMs / n,
    deadlineMs: performance.now() + 300_000,
  });
  if (pre.added < n) throw new Error(`preload stopped at ${pre.added} of ${n} entries after 300 s`);
  ctx.log(`  preloaded in ${pre.seconds.toFixed(1)}s; starting PAYFLUX_ROLE=consumer`);
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
      env: exportEnv(ctx, 'drain', 'consumer', file),
      workDir: ctx.workDir,
      cpuProf: ctx.profDir,
      nodeArgs: ctx.opts.nodeArgs,
    });
    const meter = cpuMeter({ payflux: pf.pid, redis: ctx.redisPid, loadgen: 'self' });
    const doneAt = await until(async () => ((await drained(ctx, stream)) ? performance.now() : undefined), {
      everyMs: 20,
      timeoutMs: Math.max(120_000, n / 10),
    });
    const cost = cpuCost(meter.read(), meter.elapsed(), n, ctx.cores);
    const cpu = meter.read();
    clearInterval(watch);
    const from = firstLineAt ?? spawnedAt;
    const end = doneAt ?? performance.now();
    const seconds = (end - from) / 1000;
    const fromSpawnS = (end - spawnedAt) / 1000;
    const rate = n / seconds;
    const scan = scanExport(file, tag, n);
    const check = checkRanges(scan.seen, [[0, n]]);
    const ok = doneAt !== undefined && scan.lines >= n && check.missing === 0;
    ctx.log(
      `  ${Math.round(rate).toLocaleString('en-US')} events/s (${seconds.toFixed(2)}s from the first export line; ${fromSpawnS.toFixed(2)}s from spawn), lines ${scan.lines}, missing ${check.missing}`,
    );
    const redisTopCommands = await redisCommandStats(ctx.redis);
    const what = `consumer drain of a ${n.toLocaleString('en-US')}-event backlog (decode, risk, export to file, ack)`;
    return [
      {
        id: 'drain',
        what,
        value: rate,
        unit: 'events/s',
        target: '≥ 200,000 events/s',
        pass: rate >= 200_000 && ok,
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
        id: 'drain_from_start',
        what: `${what}, timed from process start`,
        value: n / fromSpawnS,
        unit: 'events/s',
        target: '≥ 200,000 events/s',
        pass: n / fromSpawnS >= 200_000 && ok,
        note: `${fromSpawnS.toFixed(2)} s from spawn to drained, of which ${((from - spawnedAt) / 1000).toFixed(2)} s before the first export line (Node start, connect, risk-window warm-up)`,
      },
    ];
  } finally {
    clearInterval(watch);
    await pf?.stop();
    rmSync(file, { force: true });
    await ctx.redis.del(stream);
  }
}

function dist(values) {
  const s = Float64Array.from(values).sort();
  return {
    p50: round3(quantile(s, 0.5)),
    p99: round3(quantile(s, 0.99)),
    max: round3(s[s.length - 1] ?? NaN),
    n: s.length,
  };
}

/** 6. Latency at a fixed event rate: the server's histogram and the client's view (tailing the file). */
export async function benchLatency(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const file = join(ctx.workDir, 'latency.ndjson');
  const pf = await startPayflux({
    name: 'latency',
    env: exportEnv(ctx, 'latency', 'all', file),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: ctx.opts.nodeArgs,
  });
  const clock = isoClock();
  const tag = newTag();
  const template = bodyTemplate(tag, o.latencyBatch);
  const counter = idCounter();
  const maxIds = Math.ceil(o.latencyRate * (o.latencyWarmS + o.latencySeconds + 2)) + 10 * o.latencyBatch;
  const tail = tailIds(file, tag, maxIds, 2);
  try {
    const pace = (seconds, onAnswer) =>
      pacedBatches({
        url: pf.url,
        path: BATCH_PATH,
        headers: jsonHeaders(ctx),
        template,
        counter,
        clock,
        rate: o.latencyRate,
        tickMs: o.latencyTickMs,
        seconds,
        maxInFlight: 64,
        onAnswer,
      });
    ctx.log(
      `latency: ${o.latencyRate.toLocaleString('en-US')} events/s as ${o.latencyBatch}-event batches every ${o.latencyTickMs} ms; warm-up ${o.latencyWarmS}s, measured ${o.latencySeconds}s`,
    );
    await pace(o.latencyWarmS);
    await sleep(200);
    const before = histogram(await scrape(pf.url), LATENCY_METRIC);
    const answers = [];
    const meter = cpuMeter({ payflux: pf.pid, redis: ctx.redisPid, loadgen: 'self' });
    const r = await pace(o.latencySeconds, (firstId, n, sentAt, at) => answers.push([firstId, n, sentAt, at]));
    const cpu = meter.read();
    const lastId = counter.next;
    await until(() => tail.lines() > 0 && answers.every(([f, n]) => tail.seenAt[f + n - 1] > 0 && tail.seenAt[f] > 0), {
      everyMs: 20,
      timeoutMs: 15_000,
    });
    await sleep(100);
    tail.stop();
    const after = histogram(await scrape(pf.url), LATENCY_METRIC);
    const delta = histogramDelta(after, before);
    const p50 = histogramQuantile(delta, 0.5);
    const p99 = histogramQuantile(delta, 0.99);

    const answerToLine = [];
    const sendToLine = [];
    const sendToAnswer = [];
    let unseen = 0;
    for (const [first, n, sentAt, at] of answers) {
      sendToAnswer.push(at - sentAt);
      for (let id = first; id < first + n && id < lastId; id++) {
        const seen = tail.seenAt[id];
        if (seen === 0) {
          unseen++;
          continue;
        }
        answerToLine.push(seen - at);
        sendToLine.push(seen - sentAt);
      }
    }
    const client = dist(answerToLine);
    const fmt = (q) => (q.overflow ? `> ${q.value * 1000} ms` : `${(q.value * 1000).toFixed(1)} ms`);
    ctx.log(
      `  histogram p50 ${fmt(p50)} p99 ${fmt(p99)} (${p99.count} events); client answer→line p50 ${client.p50.toFixed(1)} ms p99 ${client.p99.toFixed(1)} ms; unseen ${unseen}`,
    );
    const achieved = (r.requests * o.latencyBatch) / r.seconds;
    const common = {
      rateAchieved: Math.round(achieved),
      skipped: r.skipped,
      statuses: r.statuses,
      cpuCores: cpu,
      redisTopCommands: await redisCommandStats(ctx.redis),
    };
    return [
      {
        id: 'latency',
        what: `end-to-end latency p99 at ${(o.latencyRate / 1000).toFixed(0)}k events/s (payflux_end_to_end_latency_seconds: stored → exported)`,
        value: p99.value * 1000,
        unit: 'ms',
        display: `p99 ${fmt(p99)}, p50 ${fmt(p50)}`,
        target: 'p99 ≤ 25 ms',
        pass: !p99.overflow && p99.value <= 0.025 && r.skipped === 0,
        note: `bucketed histogram (bounds 1, 2.5, 5, 10, 25, 50 ms…), interpolated; ${p99.count.toLocaleString('en-US')} events`,
        details: {
          p50Ms: round3(p50.value * 1000),
          p99Ms: round3(p99.value * 1000),
          p99BucketLeMs: p99.bucketLe * 1000,
          buckets: delta,
          ...common,
        },
      },
      {
        id: 'latency_client',
        what: `client-side latency p99 at ${(o.latencyRate / 1000).toFixed(0)}k events/s (ingest answer → line in the export file)`,
        value: client.p99,
        unit: 'ms',
        display: `p99 ${client.p99.toFixed(1)} ms, p50 ${client.p50.toFixed(1)} ms`,
        target: 'p99 ≤ 25 ms',
        pass: client.p99 <= 25 && unseen === 0 && r.skipped === 0,
        note: `file tailed every 2 ms; send → line p99 ${dist(sendToLine).p99.toFixed(1)} ms; request → answer p99 ${dist(sendToAnswer).p99.toFixed(1)} ms; ${unseen} answered events never seen`,
        details: {
          answerToLineMs: client,
          sendToLineMs: dist(sendToLine),
          sendToAnswerMs: dist(sendToAnswer),
          unseen,
          ...common,
        },
      },
    ];
  } finally {
    tail.stop();
    clock.stop();
    await pf.stop();
    rmSync(file, { force: true });
  }
}

/** Least-squares slope of (t, y) in y-units per minute. */
function slopePerMin(samples) {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((s, [t]) => s + t, 0) / n;
  const my = samples.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of samples) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

/** 7. Soak: RSS of PayFlux (ingest + consumer + file export) every 10 s under sustained load. */
export async function benchSoak(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const { stream } = sectionKeys('soak');
  // Default: 70 % of the end-to-end rate measured in this run (a sustainable peak), else 30k/s.
  const rate = o.soakRate ?? (ctx.e2eRate ? Math.max(1000, Math.round((ctx.e2eRate * 0.7) / 1000) * 1000) : 30_000);
  const file = join(ctx.workDir, 'soak.ndjson');
  // A short dedup window: at 100k events/s a day of dedup keys would not fit in this machine's Redis.
  const pf = await startPayflux({
    name: 'soak',
    env: exportEnv(ctx, 'soak', 'all', file, { PAYFLUX_DEDUP_WINDOW_SEC: '120' }),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: ctx.opts.nodeArgs,
  });
  const clock = isoClock();
  const samples = [];
  const started = performance.now();
  // Above PayFlux's end-to-end capacity the backlog (and Redis's memory) would grow without
  // bound for 10 minutes: stop early instead, and say so.
  const maxLag = 2_000_000;
  let lagNow = 0;
  let stoppedEarly = false;
  const sample = () => {
    const rss = rssMb(pf.pid);
    if (rss !== undefined) samples.push([(performance.now() - started) / 1000, rss]);
    groupState(ctx.redis, stream, GROUP).then(
      (g) => {
        lagNow = g?.lag ?? 0;
      },
      () => undefined,
    );
    // The file would grow by GBs; PayFlux appends (O_APPEND), so truncating in place is safe.
    try {
      truncateSync(file, 0);
    } catch {
      // not created yet
    }
  };
  const timer = setInterval(sample, 10_000);
  try {
    ctx.log(`soak: ${rate.toLocaleString('en-US')} events/s for ${o.soakSeconds}s, RSS every 10 s`);
    const r = await pacedBatches({
      url: pf.url,
      path: BATCH_PATH,
      headers: jsonHeaders(ctx),
      template: bodyTemplate(newTag(), o.batchSize),
      counter: idCounter(),
      clock,
      rate,
      tickMs: 50,
      seconds: o.soakSeconds,
      maxInFlight: 32,
      shouldStop: () => {
        if (lagNow > maxLag) stoppedEarly = true;
        return stoppedEarly;
      },
    });
    clearInterval(timer);
    sample();
    const g = await groupState(ctx.redis, stream, GROUP);
    const crash = pf.crashed();
    if (crash)
      ctx.log(`  PayFlux EXITED during the soak (code ${crash.code}, signal ${crash.signal}):\n${crash.logTail}`);
    const steady = samples.filter(([t]) => t >= 60);
    const maxRss = Math.max(...samples.map(([, y]) => y));
    const slope = slopePerMin(steady.length >= 2 ? steady : samples);
    ctx.log(
      `  RSS max ${maxRss.toFixed(0)} MB, slope ${slope.toFixed(2)} MB/min after the first minute; achieved ${Math.round((r.requests * o.batchSize) / r.seconds)} events/s, skipped ${r.skipped}, lag at end ${g?.lag}`,
    );
    return [
      {
        id: 'soak',
        what: `RSS under sustained load (${(rate / 1000).toFixed(0)}k events/s, ${Math.round(o.soakSeconds / 60)} min)`,
        value: maxRss,
        unit: 'MB',
        display: `max ${maxRss.toFixed(0)} MB, slope ${slope.toFixed(2)} MB/min`,
        target: 'RSS ≤ 250 MB, flat (slope ≤ 1 MB/min after 1 min)',
        pass:
          crash === undefined &&
          !stoppedEarly &&
          maxRss <= 250 &&
          slope <= 1 &&
          r.skipped === 0 &&
          r.errors === 0 &&
          (r.statuses[200] ?? 0) === r.requests,
        note: `${crash ? `PayFlux EXITED after ~${Math.round(samples[samples.length - 1]?.[0] ?? 0)} s (code ${crash.code}, signal ${crash.signal}): ${crash.logTail.split('\n').slice(-3).join(' / ').slice(0, 400)}; ` : ''}${stoppedEarly ? `STOPPED EARLY after ${Math.round(r.seconds)} s: lag passed ${maxLag.toLocaleString('en-US')} (the rate is above PayFlux's end-to-end capacity); ` : ''}achieved ${Math.round((r.requests * o.batchSize) / r.seconds).toLocaleString('en-US')} events/s; statuses ${JSON.stringify(r.statuses)}, ${r.skipped} sends skipped (in-flight cap), ${r.errors} errors; lag at end ${g?.lag}`,
        details: {
          rate,
          stoppedEarly,
          crash,
          samples: samples.map(([t, y]) => [round1(t), round1(y)]),
          slopeMbPerMin: round3(slope),
          achievedRate: Math.round((r.requests * o.batchSize) / r.seconds),
          skipped: r.skipped,
          statuses: r.statuses,
          lagAtEnd: g?.lag,
          pendingAtEnd: g?.pending,
        },
      },
    ];
  } finally {
    clearInterval(timer);
    clock.stop();
    await pf.stop();
    rmSync(file, { force: true });
  }
}
