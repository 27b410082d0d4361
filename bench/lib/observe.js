/**
 * What the benchmark reads back: PayFlux's /metrics, the consumer group's lag and pending count,
 * Redis's own counters, and CPU use per process (who is using the 2 cores).
 */
import { readFileSync } from 'node:fs';
import { cpuSeconds, reapedChildrenCpuSeconds } from './processes.js';

/** CPU seconds the whole machine has been busy (all cores; /proc/stat, Linux), or undefined. */
function machineBusySeconds() {
  return procStat()?.busy;
}

/** CPU seconds the hypervisor gave to other guests while this VM wanted to run. */
export function machineStealSeconds() {
  return procStat()?.steal;
}

function procStat() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
    const busy = f.slice(0, 8).reduce((s, x) => s + x, 0) - f[3] - f[4];
    return { busy: busy / 100, steal: (f[7] ?? 0) / 100 };
  } catch {
    return undefined;
  }
}

export async function scrape(url) {
  const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  return r.text();
}

/** Sum of every series of `name` (all label sets) in Prometheus text. */
export function metricValue(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Cumulative buckets of histogram `name`: [[le, count], …] with le = Infinity last. */
export function histogram(text, name) {
  const out = [];
  const re = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) out.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** `after − before`, bucket by bucket (the observations made in between). */
export function histogramDelta(after, before) {
  const prev = new Map(before);
  return after.map(([le, c]) => [le, c - (prev.get(le) ?? 0)]);
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside its bucket as
 * Prometheus's histogram_quantile does. Returns { value, bucketLe, overflow }.
 */
export function histogramQuantile(buckets, q) {
  const total = buckets.length > 0 ? buckets[buckets.length - 1][1] : 0;
  if (total === 0) return { value: NaN, bucketLe: NaN, count: 0 };
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of buckets) {
    if (c >= rank) {
      if (le === Infinity) return { value: prevLe, bucketLe: Infinity, count: total, overflow: true };
      const value = c === prevCount ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / (c - prevCount);
      return { value, bucketLe: le, count: total };
    }
    prevLe = le;
    prevCount = c;
  }
  return { value: prevLe, bucketLe: Infinity, count: total, overflow: true };
}

/** Exact quantile of a sample (sorted in place). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/**
 * The streams PayFlux keeps under `stream`: its partitions (`<stream>:{tag}`, one per processor,
 * src/buffer/partitions.ts) and the single-stream layout's `<stream>` when it exists.
 */
export async function partitionStreams(redis, stream) {
  const streams = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${stream}*`, 'TYPE', 'stream', 'COUNT', 1000);
    streams.push(...keys.filter((k) => k === stream || k.startsWith(`${stream}:{`)));
    cursor = next;
  } while (cursor !== '0');
  return streams.sort();
}

/**
 * Undelivered entries read to count their events: up to this many an exact count, beyond it the
 * lag in entries times the events per entry of these (entries of one run carry similar counts).
 */
const LAG_SAMPLE_ENTRIES = 8;

/**
 * The progress of `group` over every partition of `stream`, summed: `lag` in events (an entry
 * may carry several: src/events/packed-entry.ts), `pending` in entries delivered and not yet
 * acknowledged, `lagEntries` in entries, `partitions` how many streams were read. Undefined
 * while no stream has the group yet.
 */
export async function groupState(redis, stream, group) {
  let state;
  for (const s of await partitionStreams(redis, stream)) {
    const groups = await redis.xinfo('GROUPS', s).catch(() => []);
    for (const g of groups) {
      const f = new Map();
      for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
      if (f.get('name') !== group) continue;
      state ??= { lag: 0, lagEntries: 0, pending: 0, partitions: 0 };
      const last = String(f.get('last-delivered-id'));
      const lagField = f.get('lag');
      // Redis says null once entries past the group's position were deleted: count what follows.
      const entries = lagField === null || lagField === undefined ? LAG_SAMPLE_ENTRIES : Number(lagField);
      state.lag += entries === 0 ? 0 : await undeliveredEvents(redis, s, last, entries);
      state.lagEntries += lagField === null || lagField === undefined ? 0 : entries;
      state.pending += Number(f.get('pending'));
      state.partitions++;
    }
  }
  return state;
}

async function undeliveredEvents(redis, stream, lastDelivered, entries) {
  const page = await redis.xrangeBuffer(stream, `(${lastDelivered}`, '+', 'COUNT', LAG_SAMPLE_ENTRIES);
  let events = 0;
  for (const [, fields] of page) events += eventsOfEntry(fields?.[1]);
  if (page.length < LAG_SAMPLE_ENTRIES || entries <= page.length) return events;
  return Math.round((events / page.length) * entries);
}

/** The events an entry's `e` value carries: one, or several joined by `\n` (packed). */
function eventsOfEntry(e) {
  if (e === undefined) return 0;
  let events = 1;
  if (e.indexOf('}\n{') < 0) return events;
  for (let at = e.indexOf(10); at >= 0; at = e.indexOf(10, at + 1)) events++;
  return events;
}

/** Redis's per-command time since the last CONFIG RESETSTAT: the top commands by total µs. */
export async function redisCommandStats(redis, top = 6) {
  const info = await redis.info('commandstats');
  const rows = [];
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(line.trim());
    if (m) rows.push({ command: m[1], calls: Number(m[2]), usec: Number(m[3]), usecPerCall: Number(m[4]) });
  }
  return rows.sort((a, b) => b.usec - a.usec).slice(0, top);
}

/**
 * CPU meter over named processes (pid or 'self'): `read()` gives CPU seconds per wall second
 * for each since `start()` (1.0 = one full core; the machine has os.cpus().length of them),
 * plus `steal`: CPU the hypervisor gave other guests while this VM wanted it (a shared VM's
 * noise, invisible from inside), and `other`: what the rest of the machine used meanwhile
 * (processes not part of the benchmark). Both should be near 0 for numbers worth comparing.
 * `reaped`: a name under which to count the children that ran to completion meanwhile
 * (redis-benchmark, `payflux backtest`), whose /proc entries are gone by the time of `read()`.
 */
export function cpuMeter(procs, { reaped } = {}) {
  const read = () => {
    const out = {};
    for (const [name, pid] of Object.entries(procs)) {
      if (pid === 'self') {
        const u = process.cpuUsage();
        out[name] = (u.user + u.system) / 1e6;
      } else out[name] = cpuSeconds(pid);
    }
    if (reaped) out[reaped] = reapedChildrenCpuSeconds();
    out.machine = machineBusySeconds();
    out.steal = machineStealSeconds();
    return out;
  };
  const names = reaped ? [...Object.keys(procs), reaped] : Object.keys(procs);
  let t0 = performance.now();
  let c0 = read();
  return {
    start() {
      t0 = performance.now();
      c0 = read();
    },
    /** Wall seconds since start(). */
    elapsed: () => (performance.now() - t0) / 1000,
    read() {
      const dt = (performance.now() - t0) / 1000;
      const c1 = read();
      const out = {};
      for (const k of Object.keys(c1)) {
        out[k] = c1[k] === undefined || c0[k] === undefined ? null : Math.round(((c1[k] - c0[k]) / dt) * 100) / 100;
      }
      if (out.machine !== null) {
        let ours = 0;
        for (const k of names) ours += out[k] ?? 0;
        out.other = Math.max(0, Math.round((out.machine - ours - (out.steal ?? 0)) * 100) / 100);
      }
      delete out.machine;
      return out;
    },
  };
}

/** Cores the whole machine keeps busy over `ms` (before the benchmark starts: background noise). */
export async function machineBusyCores(ms) {
  const a = machineBusySeconds();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineBusySeconds();
  return a === undefined || b === undefined
    ? undefined
    : Math.round(((b - a) / ((performance.now() - t) / 1000)) * 100) / 100;
}

/**
 * CPU cost per event of each process (µs), from cores used over `seconds` for `events`, and
 * what it implies on a machine whose `cores` were all ours: every process here is one
 * event-loop thread (≤ 1 core each), so the rate is bounded both by the total and by the
 * busiest process. A model, not a measurement: it removes other processes' noise, not
 * contention effects (caches, scheduling).
 */
export function cpuCost(cores, seconds, events, machineCores) {
  const us = {};
  let total = 0;
  let worst = 0;
  for (const [k, c] of Object.entries(cores)) {
    if (k === 'other' || k === 'steal' || c === null || c === undefined) continue;
    const v = (c * seconds * 1e6) / events;
    us[k] = Math.round(v * 100) / 100;
    total += v;
    worst = Math.max(worst, v);
  }
  const projected = total === 0 ? NaN : Math.min((machineCores * 1e6) / total, 1e6 / worst);
  return { usPerEvent: us, projectedEventsPerSec: Math.round(projected) };
}

export function costNote(cost) {
  const parts = Object.entries(cost.usPerEvent).map(([k, v]) => `${k} ${v.toFixed(1)} µs`);
  return `CPU per event: ${parts.join(', ')} → ≈ ${cost.projectedEventsPerSec.toLocaleString('en-US')}/s if both cores were ours (model)`;
}

/**
 * The table's CPU columns of a row: µs per event of each process (from `cpuCost`) and the
 * cores that other processes (`other`) and other guests (`steal`) used meanwhile (`cores`, a
 * `cpuMeter` reading).
 */
export function cpuColumn({ usPerEvent, cores }) {
  const r2 = (x) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
  return { us: usPerEvent, other: r2(cores?.other), steal: r2(cores?.steal) };
}

/**
 * Events stored in `stream` and its partitions: each entry's `e` carries one event, or several
 * joined by `\n` (src/events/packed-entry.ts), so XLEN counts entries, not events. Read in
 * pages of entries.
 */
export async function streamEvents(redis, stream) {
  let events = 0;
  for (const s of await partitionStreams(redis, stream)) events += await eventsIn(redis, s);
  return events;
}

async function eventsIn(redis, stream) {
  let events = 0;
  let start = '-';
  for (;;) {
    const page = await redis.xrangeBuffer(stream, start, '+', 'COUNT', 2000);
    for (const [, fields] of page) events += eventsOfEntry(fields?.[1]);
    if (page.length < 2000) return events;
    start = `(${page[page.length - 1][0].toString()}`;
  }
}
