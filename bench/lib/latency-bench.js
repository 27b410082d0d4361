/**
 * Latency at a fixed 10k events/s: the server's histogram and the client's view (tailing the file).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_PATH, jsonHeaders, resetRedis, round3 } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { tailIds } from './export-file.js';
import { idCounter, isoClock, pacedBatches } from './load.js';
import {
  cpuMeter,
  histogram,
  histogramDelta,
  histogramQuantile,
  quantile,
  redisCommandStats,
  scrape,
} from './observe.js';
import { sleep, startPayflux } from './processes.js';
import { exportEnv, until } from './pipeline-common.js';

const LATENCY_METRIC = 'payflux_end_to_end_latency_seconds';

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
