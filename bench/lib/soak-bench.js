/**
 * The RSS soak: PayFlux under sustained load for minutes, RSS sampled every 10 s.
 */
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_PATH, GROUP, jsonHeaders, resetRedis, round1, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { idCounter, isoClock, pacedBatches } from './load.js';
import { groupState } from './observe.js';
import { rssMb, startPayflux } from './processes.js';
import { exportEnv } from './pipeline-common.js';

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
