/**
 * Preloaded into PayFlux by `node bench/run.js --only latency --latency-trace` (`--import`):
 * every 5 ms, how long the main thread ran and how long it waited for a CPU since the last
 * tick (`/proc/<pid>/task/<pid>/schedstat`: on-CPU ns, run-queue wait ns), and every GC pause
 * (PerformanceObserver). Written as JSON to `$LATENCY_PROBE_OUT` when the process exits, with
 * wall-clock times (epoch ms) so that the bench lines them up with its own requests. Linux only.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const out = process.env.LATENCY_PROBE_OUT;
const origin = performance.timeOrigin;
const sched = `/proc/${process.pid}/task/${process.pid}/schedstat`;
const gcs = [];
const ticks = [];
const readSched = () => {
  const [run, wait] = readFileSync(sched, 'utf8').split(' ');
  return [Number(run) / 1e6, Number(wait) / 1e6];
};

if (out !== undefined) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([origin + e.startTime, e.duration, e.detail?.kind ?? 0]);
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let [lastRun, lastWait] = readSched();
  // [end of the tick (epoch ms), its length, main thread on CPU, main thread waiting for a CPU] (ms)
  setInterval(() => {
    const now = performance.now();
    const [run, wait] = readSched();
    ticks.push([origin + now, now - last, run - lastRun, wait - lastWait]);
    last = now;
    lastRun = run;
    lastWait = wait;
  }, 5).unref();
  process.on('exit', () => writeFileSync(out, JSON.stringify({ gcs, ticks })));
}
