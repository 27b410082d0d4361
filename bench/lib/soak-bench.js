/**
 * The RSS soak: PayFlux under sustained load for minutes, RSS sampled every 10 s.
 */
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_PATH, GROUP, jsonHeaders, resetRedis, round1, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { idCounter, isoClock, pacedBatches } from './load.js';
import { cpuColumn, cpuCost, cpuMeter, groupState, metricValue, scrape } from './observe.js';
import { rssMb, startPayflux } from './processes.js';
import { exportEnv } from './pipeline-common.js';

/** The warm-up left out of the verdict: the first minute (heap and buffers settling). */
const WARM_UP_S = 60;
const SAMPLE_EVERY_MS = 5_000;

/**
 * Theil–Sen slope of (t, y) in y-units per minute: the median of the slopes between every two
 * samples. A leak moves every pair; RSS swinging ±20 MB with what is in flight at the moment
 * (young generation, large bodies waiting for a major GC) moves few, where a least-squares
 * line over the same samples follows a few high ones at either end.
 */
export function robustSlopePerMin(samples) {
  const slopes = [];
  for (let i = 0; i < samples.length; i++)
    for (let j = i + 1; j < samples.length; j++) {
      const dt = samples[j][0] - samples[i][0];
      if (dt > 0) slopes.push((samples[j][1] - samples[i][1]) / dt);
    }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  const median = slopes.length % 2 === 1 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
  return median * 60;
}

/**
 * The lowest sample of each minute, at the minute's middle: the V8 heap in use swings with the
 * garbage not yet collected, and its floor is close to what is live.
 */
function minuteFloors(samples) {
  const floors = new Map();
  for (const [t, y] of samples) {
    const m = Math.floor(t / 60);
    floors.set(m, Math.min(floors.get(m) ?? Infinity, y));
  }
  return [...floors].map(([m, y]) => [m * 60 + 30, y]);
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
  // The V8 heap in use (PayFlux's /metrics) beside RSS: a leak of JS objects grows it too.
  const heapSamples = [];
  const started = performance.now();
  // Above PayFlux's end-to-end capacity the backlog (and Redis's memory) would grow without
  // bound for 10 minutes: stop early instead, and say so.
  const maxLag = 2_000_000;
  let lagNow = 0;
  let stoppedEarly = false;
  const sample = () => {
    const t = (performance.now() - started) / 1000;
    const rss = rssMb(pf.pid);
    if (rss !== undefined) samples.push([t, rss]);
    scrape(pf.url).then(
      (text) => heapSamples.push([t, metricValue(text, 'payflux_nodejs_heap_size_used_bytes') / 1e6]),
      () => undefined,
    );
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
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  const meter = cpuMeter({ payflux: pf.pid, redis: ctx.redisPid, loadgen: 'self' });
  try {
    ctx.log(
      `soak: ${rate.toLocaleString('en-US')} events/s for ${o.soakSeconds}s, RSS every ${SAMPLE_EVERY_MS / 1000} s`,
    );
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
    const cpu = meter.read();
    const cost = cpuCost(cpu, meter.elapsed(), r.requests * o.batchSize, ctx.cores);
    sample();
    const g = await groupState(ctx.redis, stream, GROUP);
    const crash = pf.crashed();
    if (crash)
      ctx.log(`  PayFlux EXITED during the soak (code ${crash.code}, signal ${crash.signal}):\n${crash.logTail}`);
    const afterWarmUp = (list) => {
      const steady = list.filter(([t]) => t >= WARM_UP_S);
      return steady.length >= 2 ? steady : list;
    };
    const maxRss = Math.max(...samples.map(([, y]) => y));
    const slope = robustSlopePerMin(afterWarmUp(samples));
    const lsSlope = slopePerMin(afterWarmUp(samples));
    const heapSlope = robustSlopePerMin(minuteFloors(afterWarmUp(heapSamples)));
    ctx.log(
      `  RSS max ${maxRss.toFixed(0)} MB, slope ${slope.toFixed(2)} MB/min after the first minute (least squares ${lsSlope.toFixed(2)}; V8 heap's floor ${heapSlope.toFixed(2)}); achieved ${Math.round((r.requests * o.batchSize) / r.seconds)} events/s, skipped ${r.skipped}, lag at end ${g?.lag}`,
    );
    return [
      {
        id: 'soak',
        what: `RSS under sustained load (${(rate / 1000).toFixed(0)}k events/s, ${Math.round(o.soakSeconds / 60)} min)`,
        value: maxRss,
        unit: 'MB',
        display: `max ${maxRss.toFixed(0)} MB, slope ${slope.toFixed(2)} MB/min`,
        target: 'RSS ≤ 250 MB, flat (median slope ≤ 1 MB/min after 1 min)',
        pass:
          crash === undefined &&
          !stoppedEarly &&
          maxRss <= 250 &&
          slope <= 1 &&
          r.skipped === 0 &&
          r.errors === 0 &&
          (r.statuses[200] ?? 0) === r.requests,
        note: `${crash ? `PayFlux EXITED after ~${Math.round(samples[samples.length - 1]?.[0] ?? 0)} s (code ${crash.code}, signal ${crash.signal}): ${crash.logTail.split('\n').slice(-3).join(' / ').slice(0, 400)}; ` : ''}${stoppedEarly ? `STOPPED EARLY after ${Math.round(r.seconds)} s: lag passed ${maxLag.toLocaleString('en-US')} (the rate is above PayFlux's end-to-end capacity); ` : ''}RSS every ${SAMPLE_EVERY_MS / 1000} s, slope the median of the slopes between every two samples after the first minute (least squares ${lsSlope.toFixed(2)} MB/min; the V8 heap in use, each minute's lowest sample, ${heapSlope.toFixed(2)} MB/min); achieved ${Math.round((r.requests * o.batchSize) / r.seconds).toLocaleString('en-US')} events/s; statuses ${JSON.stringify(r.statuses)}, ${r.skipped} sends skipped (in-flight cap), ${r.errors} errors; lag at end ${g?.lag}`,
        cpu: cpuColumn({ ...cost, cores: cpu }),
        details: {
          rate,
          stoppedEarly,
          cpuCores: cpu,
          crash,
          samples: samples.map(([t, y]) => [round1(t), round1(y)]),
          heapUsedSamples: heapSamples.map(([t, y]) => [round1(t), round1(y)]),
          slopeMbPerMin: round3(slope),
          leastSquaresSlopeMbPerMin: round3(lsSlope),
          heapSlopeMbPerMin: round3(heapSlope),
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
