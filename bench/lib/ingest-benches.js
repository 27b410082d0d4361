/**
 * The ingest half: single-event req/s against the minimal durable handler (and the empty
 * validated handler), and batch ingest events/s into Redis.
 */
import { SINGLE_PATH, jsonHeaders, payfluxEnv, resetRedis, round1, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag } from './events.js';
import { autocannonRound, batchDriver, idCounter, isoClock } from './load.js';
import {
  cpuColumn,
  cpuCost,
  costNote,
  cpuMeter,
  metricValue,
  redisCommandStats,
  scrape,
  streamEvents,
} from './observe.js';
import { sleep, startBaseline, startPayflux } from './processes.js';

/** Server-side truth after a run: PayFlux's counters and the stream length. */
async function storedState(ctx, pf, stream) {
  await sleep(300);
  const text = await scrape(pf.url);
  return {
    accepted: metricValue(text, 'payflux_ingest_accepted_total'),
    duplicates: metricValue(text, 'payflux_ingest_duplicate_total'),
    rejected: metricValue(text, 'payflux_ingest_rejected_total'),
    // Events per append round trip: how well concurrent requests share one Redis call.
    avgAppendBatch:
      Math.round(
        (metricValue(text, 'payflux_append_batch_events_sum') /
          Math.max(1, metricValue(text, 'payflux_append_batch_events_count'))) *
          10,
      ) / 10,
    // Events, not entries: an entry may carry a whole append round trip's events.
    xlen: await streamEvents(ctx.redis, stream),
  };
}

/** Requests a second over rounds, and how many were not 2xx. */
const rate = (rs) => rs.reduce((s, r) => s + r.ok, 0) / rs.reduce((s, r) => s + r.seconds, 0);
const bad = (rs) => rs.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0);

/**
 * 1. Single-event ingest: PayFlux against the minimal durable handler (same validation, one
 * auto-pipelined XADD per request) and, as a reference, the empty validated handler. Rounds
 * alternate durable, PayFlux, empty under the same load, so a slow spell of this shared machine
 * hits all three alike.
 */
export async function benchIngest(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const { stream } = sectionKeys('ingest');
  const durableStream = sectionKeys('ingest-durable').stream;
  const pf = await startPayflux({
    name: 'ingest',
    env: payfluxEnv(ctx, 'ingest', { PAYFLUX_ROLE: 'ingest' }),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: ctx.opts.nodeArgs,
  });
  const started = [pf];
  try {
    started.push(
      await startBaseline({
        name: 'durable',
        workDir: ctx.workDir,
        cpuProf: ctx.profDir,
        redisAddr: ctx.redisAddr,
        stream: durableStream,
      }),
    );
    started.push(await startBaseline({ name: 'empty', workDir: ctx.workDir, cpuProf: ctx.profDir }));
  } catch (err) {
    await Promise.all(started.map((p) => p.stop()));
    throw err;
  }
  const [, durable, empty] = started;
  const targets = [
    ['durable', durable],
    ['payflux', pf],
    ['empty', empty],
  ];
  const clock = isoClock();
  try {
    const template = bodyTemplate(newTag(), 0);
    const counter = idCounter();
    const round = (target, seconds) =>
      autocannonRound({
        url: target.url,
        path: SINGLE_PATH,
        headers: jsonHeaders(ctx),
        template,
        counter,
        clock,
        connections: o.connections,
        pipelining: o.pipelining,
        seconds,
        maxRequests: seconds * 200_000,
      });
    ctx.log(
      `ingest: warm-up ${o.ingestWarmS}s each, then ${o.ingestRounds} rounds of ${o.ingestRoundS}s each, durable → PayFlux → empty (${o.connections} connections, pipelining ${o.pipelining})`,
    );
    let durableOk = 0;
    for (const [name, target] of targets) {
      const w = await round(target, o.ingestWarmS);
      if (name === 'durable') durableOk += w.ok;
    }
    const meter = cpuMeter({
      payflux: pf.pid,
      durable: durable.pid,
      empty: empty.pid,
      redis: ctx.redisPid,
      loadgen: 'self',
    });
    const rounds = { durable: [], payflux: [], empty: [] };
    const cpu = { durable: [], payflux: [], empty: [] };
    for (let i = 0; i < o.ingestRounds; i++) {
      for (const [name, target] of targets) {
        meter.start();
        const r = await round(target, o.ingestRoundS);
        const seconds = meter.elapsed();
        const c = meter.read();
        cpu[name].push({ ...c, seconds });
        rounds[name].push(r);
        if (name === 'durable') durableOk += r.ok;
        ctx.log(
          `  round ${i + 1} ${name.padEnd(8)} ${Math.round(r.rps).toLocaleString('en-US')} req/s  p99 ${r.latencyP99Ms} ms  non-2xx ${r.non2xx}  errors ${r.errors}  cpu ${JSON.stringify(c)}`,
        );
      }
    }
    const rps = { durable: rate(rounds.durable), payflux: rate(rounds.payflux), empty: rate(rounds.empty) };
    const stored = await storedState(ctx, pf, stream);
    const durableXlen = await ctx.redis.xlen(durableStream);
    // A request still in flight when a round's clock runs out is stored but its answer is not
    // counted: at most one per connection a round (warm-up included). A 2xx without its entry
    // would be a loss.
    const unanswered = durableXlen - durableOk;
    const durableIntact = unanswered >= 0 && unanswered <= o.connections * (1 + o.ingestRounds);
    const integrity = stored.xlen === stored.accepted && stored.duplicates === 0 && durableIntact;
    const failures = bad(rounds.payflux) + bad(rounds.durable) + bad(rounds.empty);
    const ok = integrity && failures === 0;
    const cost = (name, procs) => {
      const seconds = cpu[name].reduce((s, c) => s + c.seconds, 0);
      const cores = {};
      for (const k of [...procs, 'other', 'steal'])
        cores[k] = cpu[name].reduce((s, c) => s + (c[k] ?? 0) * c.seconds, 0) / seconds;
      return {
        cores,
        ...cpuCost(
          cores,
          seconds,
          rounds[name].reduce((s, r) => s + r.ok, 0),
          ctx.cores,
        ),
      };
    };
    const pfCost = cost('payflux', ['payflux', 'redis', 'loadgen']);
    const durableCost = cost('durable', ['durable', 'redis', 'loadgen']);
    const emptyCost = cost('empty', ['empty', 'loadgen']);
    const budget = budgetAt(1.0, pfCost, durableCost, 'durable', ctx.cores);
    const integrityNote = ok
      ? ''
      : `non-2xx/errors ${failures}; PayFlux stream events ${stored.xlen} vs accepted ${stored.accepted}, duplicates ${stored.duplicates}; durable handler XLEN ${durableXlen} vs 2xx ${durableOk}; `;
    const details = {
      cpuCost: { payflux: pfCost, durable: durableCost, empty: emptyCost, budgetAt1: budget },
      rounds: Object.fromEntries(Object.entries(rounds).map(([k, rs]) => [k, rs.map((r) => Math.round(r.rps))])),
      latencyP99Ms: Object.fromEntries(Object.entries(rounds).map(([k, rs]) => [k, rs.map((r) => r.latencyP99Ms)])),
      cpuCoresPerRound: cpu,
      stored,
      durableXlen,
      redisTopCommands: await redisCommandStats(ctx.redis),
    };
    return [
      {
        id: 'ingest',
        what: 'single-event ingest (auth, validation, dedup, durable append), req/s',
        value: rps.payflux,
        unit: 'req/s',
        baseline: rps.durable,
        baselineWhat: 'minimal durable handler: same validation, one auto-pipelined XADD',
        ratio: rps.payflux / rps.durable,
        target: '≥ 1.0 × baseline',
        pass: rps.payflux / rps.durable >= 1.0 && ok,
        cpu: cpuColumn(pfCost),
        note:
          integrityNote +
          `per request, PayFlux: ${costNote(pfCost)}; ${stored.avgAppendBatch} events per append round trip; durable handler: ${costNote(durableCost)}; ` +
          `modelled ratio ${(pfCost.projectedEventsPerSec / durableCost.projectedEventsPerSec).toFixed(2)}×; at 1.0× PayFlux may spend ${budget.payfluxUs.toFixed(1)} µs a request ` +
          `(${budget.ofBaseline.toFixed(2)}× the durable handler's ${durableCost.usPerEvent.durable} µs) after the load generator and Redis`,
        details,
      },
      {
        id: 'ingest_empty',
        what: 'single-event ingest against an empty validated handler (nothing stored)',
        value: rps.payflux,
        unit: 'req/s',
        baseline: rps.empty,
        baselineWhat: 'empty validated Fastify handler',
        ratio: rps.payflux / rps.empty,
        target: 'reference',
        pass: null,
        cpu: cpuColumn(emptyCost),
        note: `the empty handler: ${costNote(emptyCost)}; the durable handler reached ${(rps.durable / rps.empty).toFixed(2)}× the empty one`,
      },
    ];
  } finally {
    clock.stop();
    await Promise.all(started.map((p) => p.stop()));
  }
}

/**
 * The CPU PayFlux may spend per request to reach `ratio` × the baseline's modelled rate, given
 * what the load generator and Redis cost per request in PayFlux's own rounds (the same model as
 * `cpuCost`: all cores shared, and PayFlux's event loop is one thread).
 */
function budgetAt(ratio, pfCost, baseCost, baseName, cores) {
  const target = ratio * baseCost.projectedEventsPerSec;
  const others = (pfCost.usPerEvent.loadgen ?? 0) + (pfCost.usPerEvent.redis ?? 0);
  const payfluxUs = Math.min((cores * 1e6) / target - others, 1e6 / target);
  return {
    payfluxUs: round1(payfluxUs),
    ofBaseline: Math.round((payfluxUs / baseCost.usPerEvent[baseName]) * 100) / 100,
  };
}

/** 2. Batch ingest: 500 events per request, events/s stored into Redis (XLEN checked). */
export async function benchBatch(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const { stream } = sectionKeys('batch');
  const pf = await startPayflux({
    name: 'batch',
    env: payfluxEnv(ctx, 'batch', { PAYFLUX_ROLE: 'ingest' }),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: ctx.opts.nodeArgs,
  });
  const clock = isoClock();
  try {
    const template = bodyTemplate(newTag(), o.batchSize);
    const { counter, drive } = batchDriver(ctx, pf.url, template, clock);
    ctx.log(
      `batch: ${o.batchSize} events/request, ${o.batchConnections} connections, warm-up ${o.batchWarmS}s then ${o.batchSeconds}s`,
    );
    const warm = await drive(o.batchWarmS);
    const meter = cpuMeter({ payflux: pf.pid, redis: ctx.redisPid, loadgen: 'self' });
    const r = await drive(o.batchSeconds);
    const cpu = meter.read();
    const cost = cpuCost(cpu, meter.elapsed(), r.accepted, ctx.cores);
    const eventsPerSec = r.accepted / r.seconds;
    const stored = await storedState(ctx, pf, stream);
    const clientAccepted = warm.accepted + r.accepted;
    const integrity =
      stored.xlen === stored.accepted &&
      stored.accepted === clientAccepted &&
      r.errors === 0 &&
      r.rejected === 0 &&
      r.duplicates === 0;
    ctx.log(
      `  ${Math.round(eventsPerSec).toLocaleString('en-US')} events/s (${r.accepted} accepted in ${r.seconds.toFixed(1)}s), stream events ${stored.xlen} = accepted ${stored.accepted}: ${integrity}`,
    );
    return [
      {
        id: 'batch',
        what: `batch ingest, ${o.batchSize} events/request, events/s into Redis`,
        value: eventsPerSec,
        unit: 'events/s',
        vsCeiling: 0.3,
        ok: integrity,
        cpu: cpuColumn({ ...cost, cores: cpu }),
        note: `${integrity ? `stream events ${stored.xlen.toLocaleString('en-US')} = accepted` : `stream events ${stored.xlen}, server accepted ${stored.accepted}, client accepted ${clientAccepted}, errors ${r.errors}, statuses ${JSON.stringify(r.statuses)}`}; ${stored.avgAppendBatch} events per append round trip; ${costNote(cost)}`,
        details: {
          requests: r.requests,
          accepted: r.accepted,
          seconds: round3(r.seconds),
          statuses: r.statuses,
          stored,
          cpuCores: cpu,
          cpuCost: cost,
          redisTopCommands: await redisCommandStats(ctx.redis),
        },
      },
    ];
  } finally {
    clock.stop();
    await pf.stop();
  }
}
