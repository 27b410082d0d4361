/**
 * Latency at a fixed 10k events/s: the server's histogram and the client's view (tailing the file).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_PATH, jsonHeaders, resetRedis, round3 } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { tailIds } from './export-file.js';
import { idCounter, isoClock, pacedBatches } from './load.js';
import {
  cpuColumn,
  cpuCost,
  cpuMeter,
  histogram,
  histogramDelta,
  histogramQuantile,
  quantile,
  redisCommandStats,
  scrape,
} from './observe.js';
import { ROOT, sleep, startPayflux } from './processes.js';
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

/**
 * `--latency-trace`: where the slowest 1 % of requests (by their slowest event's answer → line)
 * spent their time in PayFlux's main thread, against the fastest half: per request window, the
 * probe's ticks (5 ms, so a window counts whole ticks) summed into on-CPU and waiting for a CPU,
 * and the GC pauses that overlap it. Milliseconds per request, averaged.
 */
function traceBreakdown(path, requests) {
  if (!existsSync(path) || requests.length === 0) return undefined;
  const { gcs, ticks } = JSON.parse(readFileSync(path, 'utf8'));
  const window = ([at, worst]) => {
    const w = { latencyMs: worst, onCpuMs: 0, waitingForCpuMs: 0, gcMs: 0 };
    for (const [t, len, run, wait] of ticks)
      if (t > at && t - len < at + worst) {
        w.onCpuMs += run;
        w.waitingForCpuMs += wait;
      }
    for (const [t, d] of gcs) if (t < at + worst && t + d > at) w.gcMs += d;
    return w;
  };
  const mean = (list) => {
    const m = { requests: list.length, latencyMs: 0, onCpuMs: 0, waitingForCpuMs: 0, gcMs: 0 };
    for (const w of list.map(window)) for (const k of Object.keys(w)) m[k] += w[k] / list.length;
    for (const k of Object.keys(m)) m[k] = round3(m[k]);
    return m;
  };
  const sorted = [...requests].sort((a, b) => a[1] - b[1]);
  const slowest = mean(sorted.slice(-Math.max(1, Math.round(sorted.length / 100))));
  const fastest = mean(sorted.slice(0, Math.ceil(sorted.length / 2)));
  const f = (m) =>
    `${m.latencyMs.toFixed(1)} ms: main thread on CPU ${m.onCpuMs.toFixed(1)}, waiting for a CPU ${m.waitingForCpuMs.toFixed(1)}, GC pauses ${m.gcMs.toFixed(1)}`;
  return { figures: { slowest, fastest }, text: `slowest 1 % ${f(slowest)}; fastest half ${f(fastest)}` };
}

/** 6. Latency at a fixed event rate: the server's histogram and the client's view (tailing the file). */
export async function benchLatency(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const file = join(ctx.workDir, 'latency.ndjson');
  const probeOut = join(ctx.workDir, 'latency-probe.json');
  const trace = o.latencyTrace;
  const pf = await startPayflux({
    name: 'latency',
    env: exportEnv(ctx, 'latency', 'all', file, trace ? { LATENCY_PROBE_OUT: probeOut } : {}),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: [...ctx.opts.nodeArgs, ...(trace ? [`--import=${join(ROOT, 'bench', 'latency-probe.mjs')}`] : [])],
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
    const cost = cpuCost(cpu, meter.elapsed(), r.requests * o.latencyBatch, ctx.cores);
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
    // Per request: its wall-clock answer time and its slowest event's answer → line, for the trace.
    const requests = answers.map(([first, n, , at]) => {
      let worst = 0;
      for (let id = first; id < first + n && id < lastId; id++)
        if (tail.seenAt[id] > 0) worst = Math.max(worst, tail.seenAt[id] - at);
      return [performance.timeOrigin + at, worst];
    });
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
    // The probe writes its file as PayFlux exits.
    const traced = trace ? (await pf.stop(), traceBreakdown(probeOut, requests)) : undefined;
    if (traced) ctx.log(`  trace: ${traced.text}`);
    return [
      {
        id: 'latency',
        what: `end-to-end latency p99 at ${(o.latencyRate / 1000).toFixed(0)}k events/s (payflux_end_to_end_latency_seconds: stored → exported)`,
        value: p99.value * 1000,
        unit: 'ms',
        display: `p99 ${fmt(p99)}, p50 ${fmt(p50)}`,
        target: 'p99 ≤ 25 ms',
        pass: !p99.overflow && p99.value <= 0.025 && r.skipped === 0,
        cpu: cpuColumn({ ...cost, cores: cpu }),
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
        cpu: cpuColumn({ ...cost, cores: cpu }),
        note: `file tailed every 2 ms; send → line p99 ${dist(sendToLine).p99.toFixed(1)} ms; request → answer p99 ${dist(sendToAnswer).p99.toFixed(1)} ms; ${unseen} answered events never seen${traced ? `; trace: ${traced.text}` : ''}`,
        details: {
          ...(traced && { trace: traced.figures }),
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
