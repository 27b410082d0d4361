/**
 * Load generators, all in this (the parent) process, all loopback-only and bounded both in
 * time and in request count: every loop stops by itself.
 *
 * - `autocannonRound`: single-event requests at maximum rate (autocannon), unique ids through
 *   `setupRequest`.
 * - `closedLoopBatches`: `connections` workers, each sending a batch and waiting for its answer;
 *   every request sent is awaited, so "accepted" is exact when the loop returns.
 * - `pacedBatches`: open loop at a fixed event rate (latency, soak), in-flight capped.
 */
import { BATCH_PATH, jsonHeaders } from './context.js';
import autocannon from 'autocannon';
import { Pool } from 'undici';

/** A shared id counter: ids are never reused within a section. */
export function idCounter(start = 0) {
  return { next: start };
}

/** The current time as ISO text, refreshed every 50 ms instead of per event. */
export function isoClock() {
  let iso = new Date().toISOString();
  const t = setInterval(() => {
    iso = new Date().toISOString();
  }, 50);
  t.unref();
  return { now: () => iso, stop: () => clearInterval(t) };
}

/** One autocannon run of `seconds` (and at most `maxRequests`) against `url + path`. */
export async function autocannonRound({
  url,
  path,
  headers,
  template,
  counter,
  clock,
  connections,
  pipelining,
  seconds,
  maxRequests,
}) {
  const started = performance.now();
  const result = await autocannon({
    url,
    connections,
    pipelining,
    duration: seconds,
    maxOverallRequests: maxRequests,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path,
        headers,
        // One shared Buffer: autocannon copies it into the request synchronously (Buffer.concat).
        setupRequest: (req) => {
          req.body = template.intoShared(counter.next++, clock.now());
          return req;
        },
      },
    ],
  });
  const elapsedS = result.duration || (performance.now() - started) / 1000;
  return {
    seconds: elapsedS,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: result['2xx'] / elapsedS,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  };
}

function newPool(url, connections) {
  return new Pool(url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

/** The outcome of one batch request, folded into `stats`. */
async function sendBatch(pool, path, headers, body, firstId, n, stats) {
  const sentAt = performance.now();
  try {
    const res = await pool.request({ path, method: 'POST', headers, body });
    const text = await res.body.text();
    const at = performance.now();
    stats.requests++;
    stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
    if (res.statusCode !== 200) return { sentAt, at, accepted: 0 };
    const r = JSON.parse(text);
    stats.accepted += r.accepted;
    stats.duplicates += r.duplicates;
    stats.rejected += r.rejected.length;
    if (r.accepted === n) stats.acceptedRanges.push([firstId, n]);
    else stats.partial.push([firstId, n, r.accepted]);
    return { sentAt, at, accepted: r.accepted };
  } catch (err) {
    stats.errors++;
    stats.lastError = err.message;
    return { sentAt, at: performance.now(), accepted: 0 };
  }
}

function newStats() {
  return {
    requests: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    errors: 0,
    statuses: {},
    acceptedRanges: [],
    partial: [],
    lastError: undefined,
  };
}

/**
 * `connections` workers send batches of `template.count` events back to back for `seconds`
 * (at most `maxRequests` in all), each awaiting its answer. Returns the stats and the elapsed
 * time from the first request to the last answer.
 */
export async function closedLoopBatches({
  url,
  path,
  headers,
  template,
  counter,
  clock,
  connections,
  seconds,
  maxRequests,
}) {
  const pool = newPool(url, connections);
  const stats = newStats();
  const n = template.count;
  let issued = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline && issued < maxRequests) {
      issued++;
      const firstId = counter.next;
      counter.next += n;
      const r = await sendBatch(pool, path, headers, template.fill(firstId, clock.now()), firstId, n, stats);
      if (r.accepted === 0 && stats.errors > 0) await new Promise((res) => setTimeout(res, 10));
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await pool.close();
  }
  return { ...stats, seconds: (performance.now() - started) / 1000 };
}

/**
 * Open loop: `rate` events/s in batches of `template.count`, checked every `tickMs` (each tick
 * sends what is due, so timer jitter does not change the rate), for `seconds`. At most
 * `maxInFlight` requests outstanding: when PayFlux falls behind, sends are skipped and counted
 * rather than queued without bound. `onAnswer(firstId, n, sentAt, at)` sees every 200;
 * `shouldStop()`, checked every tick, ends the loop early.
 */
export async function pacedBatches({
  url,
  path,
  headers,
  template,
  counter,
  clock,
  rate,
  tickMs,
  seconds,
  maxInFlight = 64,
  onAnswer,
  shouldStop,
}) {
  const pool = newPool(url, Math.min(maxInFlight, 64));
  const stats = { ...newStats(), skipped: 0 };
  const n = template.count;
  const perMs = rate / n / 1000;
  const maxRequests = Math.ceil(seconds * 1000 * perMs) + 1;
  let due = 0;
  let inFlight = 0;
  const pending = new Set();
  const started = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      if (elapsed >= seconds * 1000 || due >= maxRequests || shouldStop?.()) {
        clearInterval(timer);
        resolve();
        return;
      }
      const target = Math.min(maxRequests, Math.floor(elapsed * perMs) + 1);
      for (; due < target; due++) {
        if (inFlight >= maxInFlight) {
          stats.skipped++;
          continue;
        }
        const firstId = counter.next;
        counter.next += n;
        inFlight++;
        const p = sendBatch(pool, path, headers, template.fill(firstId, clock.now()), firstId, n, stats).then((r) => {
          inFlight--;
          pending.delete(p);
          if (r.accepted === n) onAnswer?.(firstId, n, r.sentAt, r.at);
        });
        pending.add(p);
      }
    };
    const timer = setInterval(tick, tickMs);
    tick();
  });
  await Promise.all(pending);
  await pool.close();
  return { ...stats, seconds: (performance.now() - started) / 1000 };
}

/**
 * The batch load of the batch-ingest and end-to-end sections: `drive(seconds)` runs
 * `connections` closed-loop workers posting `template` to `url` for that long (bounded at 2000
 * requests a second). `counter` numbers the events, for reading the export back.
 */
export function batchDriver(ctx, url, template, clock) {
  const counter = idCounter();
  const drive = (seconds) =>
    closedLoopBatches({
      url,
      path: BATCH_PATH,
      headers: jsonHeaders(ctx),
      template,
      counter,
      clock,
      connections: ctx.opts.batchConnections,
      seconds,
      maxRequests: seconds * 2000,
    });
  return { counter, drive };
}
