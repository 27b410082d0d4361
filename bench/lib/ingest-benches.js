/**
 * The ingest half: single-event req/s against the empty validated Fastify handler, Redis's
 * pipelined XADD ceiling, and batch ingest events/s into Redis.
 */
import { SINGLE_PATH, jsonHeaders, payfluxEnv, resetRedis, round1, round3, sectionKeys } from './context.js';
import { bodyTemplate, newTag, storedPayloads } from './events.js';
import { autocannonRound, batchDriver, idCounter, isoClock } from './load.js';
import { cpuCost, costNote, cpuMeter, metricValue, redisCommandStats, scrape } from './observe.js';
import { runCommand, sleep, startBaseline, startPayflux } from './processes.js';
import { pipelinedXadd } from './redis-load.js';

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
    xlen: await ctx.redis.xlen(stream),
  };
}

/** 1. Single-event ingest: alternating rounds, baseline first, same load for both. */
export async function benchIngest(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const { stream } = sectionKeys('ingest');
  const pf = await startPayflux({
    name: 'ingest',
    env: payfluxEnv(ctx, 'ingest', { PAYFLUX_ROLE: 'ingest' }),
    workDir: ctx.workDir,
    cpuProf: ctx.profDir,
    nodeArgs: ctx.opts.nodeArgs,
  });
  const base = await startBaseline({ workDir: ctx.workDir, cpuProf: ctx.profDir });
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
      `ingest: warm-up ${o.ingestWarmS}s each, then ${o.ingestRounds} alternating rounds of ${o.ingestRoundS}s (${o.connections} connections, pipelining ${o.pipelining})`,
    );
    await round(base, o.ingestWarmS);
    await round(pf, o.ingestWarmS);
    const meter = cpuMeter({ payflux: pf.pid, baseline: base.pid, redis: ctx.redisPid, loadgen: 'self' });
    const rounds = { baseline: [], payflux: [] };
    const cpu = { baseline: [], payflux: [] };
    for (let i = 0; i < o.ingestRounds; i++) {
      for (const [name, target] of [
        ['baseline', base],
        ['payflux', pf],
      ]) {
        meter.start();
        const r = await round(target, o.ingestRoundS);
        const seconds = meter.elapsed();
        const c = meter.read();
        cpu[name].push({ ...c, seconds });
        rounds[name].push(r);
        ctx.log(
          `  round ${i + 1} ${name.padEnd(8)} ${Math.round(r.rps).toLocaleString('en-US')} req/s  p99 ${r.latencyP99Ms} ms  non-2xx ${r.non2xx}  errors ${r.errors}  cpu ${JSON.stringify(c)}`,
        );
      }
    }
    const rate = (rs) => rs.reduce((s, r) => s + r.ok, 0) / rs.reduce((s, r) => s + r.seconds, 0);
    const bad = (rs) => rs.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0);
    const baseRps = rate(rounds.baseline);
    const pfRps = rate(rounds.payflux);
    const ratio = pfRps / baseRps;
    const stored = await storedState(ctx, pf, stream);
    const integrity = stored.xlen === stored.accepted && stored.duplicates === 0;
    const failures = bad(rounds.payflux) + bad(rounds.baseline);
    const cost = (name, procs) => {
      const seconds = cpu[name].reduce((s, c) => s + c.seconds, 0);
      const cores = {};
      for (const k of procs) cores[k] = cpu[name].reduce((s, c) => s + (c[k] ?? 0) * c.seconds, 0) / seconds;
      return cpuCost(
        cores,
        seconds,
        rounds[name].reduce((s, r) => s + r.ok, 0),
        ctx.cores,
      );
    };
    const pfCost = cost('payflux', ['payflux', 'redis', 'loadgen']);
    const baseCost = cost('baseline', ['baseline', 'loadgen']);
    const projectedRatio = pfCost.projectedEventsPerSec / baseCost.projectedEventsPerSec;
    const budget = budgetAt(0.8, pfCost, baseCost, ctx.cores);
    return [
      {
        id: 'ingest',
        what: 'single-event ingest (auth, validation, dedup, durable append)',
        value: pfRps,
        unit: 'req/s',
        baseline: baseRps,
        baselineWhat: 'empty validated Fastify POST handler',
        ratio,
        target: '≥ 0.8 × baseline',
        pass: ratio >= 0.8 && integrity && failures === 0,
        note:
          (integrity && failures === 0
            ? ''
            : `non-2xx/errors ${failures}; XLEN ${stored.xlen} vs accepted ${stored.accepted}, duplicates ${stored.duplicates}; `) +
          `per request, PayFlux: ${costNote(pfCost)}; ${stored.avgAppendBatch} events per append round trip; baseline: ${costNote(baseCost)}; projected ratio ${projectedRatio.toFixed(2)}×; ` +
          `at 0.8× PayFlux may spend ${budget.payfluxUs.toFixed(1)} µs a request (${budget.ofBaseline.toFixed(2)}× the baseline handler's ${baseCost.usPerEvent.baseline} µs) after the load generator and Redis`,
        details: {
          cpuCost: {
            payflux: pfCost,
            baseline: baseCost,
            projectedRatio: Math.round(projectedRatio * 1000) / 1000,
            budgetAt08: budget,
          },
          rounds: {
            baseline: rounds.baseline.map((r) => Math.round(r.rps)),
            payflux: rounds.payflux.map((r) => Math.round(r.rps)),
          },
          latencyP99Ms: {
            baseline: rounds.baseline.map((r) => r.latencyP99Ms),
            payflux: rounds.payflux.map((r) => r.latencyP99Ms),
          },
          cpuCoresPerRound: cpu,
          stored,
          redisTopCommands: await redisCommandStats(ctx.redis),
        },
      },
    ];
  } finally {
    clock.stop();
    await Promise.all([pf.stop(), base.stop()]);
  }
}

/** 3. Redis's pipelined XADD ceiling, from this process, with PayFlux-shaped entries. */
/**
 * The CPU PayFlux may spend per request to reach `ratio` × the baseline's modelled rate, given
 * what the load generator and Redis cost per request in PayFlux's own rounds (the same model as
 * `cpuCost`: all cores shared, and PayFlux's event loop is one thread).
 */
function budgetAt(ratio, pfCost, baseCost, cores) {
  const rate = ratio * baseCost.projectedEventsPerSec;
  const others = (pfCost.usPerEvent.loadgen ?? 0) + (pfCost.usPerEvent.redis ?? 0);
  const payfluxUs = Math.min((cores * 1e6) / rate - others, 1e6 / rate);
  return {
    payfluxUs: round1(payfluxUs),
    ofBaseline: Math.round((payfluxUs / baseCost.usPerEvent.baseline) * 100) / 100,
  };
}

export async function benchXadd(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const stream = 'bench:xadd:events';
  const tag = newTag();
  const prebuilt = storedPayloads(tag, 0, 100_000, Date.now() - 60_000, 0.5);
  const meter = cpuMeter({ redis: ctx.redisPid, loadgen: 'self' });
  // Warm ioredis and Redis up briefly, then measure.
  await pipelinedXadd(ctx.redis, { stream, tag, total: 50_000, chunk: 500, inFlight: 4, prebuilt });
  meter.start();
  const r = await pipelinedXadd(ctx.redis, {
    stream,
    tag,
    total: 20_000_000,
    chunk: 500,
    inFlight: 4,
    prebuilt,
    deadlineMs: performance.now() + o.xaddSeconds * 1000,
  });
  const cost = cpuCost(meter.read(), meter.elapsed(), r.added, ctx.cores);
  const cpu = meter.read();
  const rate = r.added / r.seconds;
  ctx.xaddCeiling = rate;
  ctx.log(
    `xadd: ${Math.round(rate).toLocaleString('en-US')} XADD/s (${r.added} in ${r.seconds.toFixed(1)}s, pipelines of 500, 4 in flight)`,
  );
  const details = {
    added: r.added,
    seconds: round3(r.seconds),
    cpuCores: cpu,
    cpuCost: cost,
    redisTopCommands: await redisCommandStats(ctx.redis),
  };
  await ctx.redis.del(stream);
  return [
    {
      id: 'xadd',
      what: "Redis's own pipelined XADD ceiling (ioredis, same payloads)",
      value: rate,
      unit: 'events/s',
      target: 'baseline for batch/e2e',
      pass: null,
      note: costNote(cost),
      details,
    },
  ];
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
    const cost = cpuCost(meter.read(), meter.elapsed(), r.accepted, ctx.cores);
    const cpu = meter.read();
    const rate = r.accepted / r.seconds;
    const stored = await storedState(ctx, pf, stream);
    const clientAccepted = warm.accepted + r.accepted;
    const integrity =
      stored.xlen === stored.accepted &&
      stored.accepted === clientAccepted &&
      r.errors === 0 &&
      r.rejected === 0 &&
      r.duplicates === 0;
    ctx.log(
      `  ${Math.round(rate).toLocaleString('en-US')} events/s (${r.accepted} accepted in ${r.seconds.toFixed(1)}s), XLEN ${stored.xlen} = accepted ${stored.accepted}: ${integrity}`,
    );
    return [
      {
        id: 'batch',
        what: `batch ingest, ${o.batchSize} events/request, events/s into Redis`,
        value: rate,
        unit: 'events/s',
        baseline: ctx.xaddCeiling,
        baselineWhat: 'pipelined XADD ceiling',
        ratio: ctx.xaddCeiling ? rate / ctx.xaddCeiling : undefined,
        target: '≥ 200,000 events/s',
        pass: rate >= 200_000 && integrity,
        note: `${ctx.xaddNative ? `${(rate / ctx.xaddNative).toFixed(2)}× the redis-benchmark ceiling; ` : ''}${integrity ? `XLEN ${stored.xlen.toLocaleString('en-US')} = accepted` : `XLEN ${stored.xlen}, server accepted ${stored.accepted}, client accepted ${clientAccepted}, errors ${r.errors}, statuses ${JSON.stringify(r.statuses)}`}; ${costNote(cost)}`,
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

/**
 * 3b. The same ceiling without a Node client in the way: redis-benchmark (C), 4 connections,
 * pipelines of 500, one PayFlux-shaped payload. Informational; skipped when not installed.
 */
export async function benchXaddNative(ctx) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const stream = 'bench:xadd-native:events';
  const [payload] = storedPayloads(newTag(), 0, 1, Date.now(), 0);
  const n = o.quick ? 300_000 : 2_000_000;
  const meter = cpuMeter({ redis: ctx.redisPid });
  const port = ctx.redisAddr.split(':')[1];
  const r = await runCommand(
    'redis-benchmark',
    [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-c',
      '4',
      '-P',
      '500',
      '-n',
      String(n),
      '--csv',
      'XADD',
      stream,
      '*',
      'e',
      payload,
    ],
    { cwd: ctx.workDir, timeoutMs: 60_000 },
  );
  const cores = meter.read();
  const m = /"([\d.]+)","[\d.]+","[\d.]+","[\d.]+","[\d.]+","[\d.]+","[\d.]+"\s*$/.exec(r.stdout.trim());
  await ctx.redis.del(stream);
  if (r.code !== 0 || !m) {
    return [
      {
        id: 'xadd_native',
        what: 'Redis pipelined XADD ceiling, C client (redis-benchmark)',
        skipped: true,
        note: `redis-benchmark unavailable or failed (${r.code}): ${r.stderr.trim().slice(0, 120)}`,
      },
    ];
  }
  const rate = Number(m[1]);
  ctx.xaddNative = rate;
  ctx.log(`xadd (redis-benchmark): ${Math.round(rate).toLocaleString('en-US')} XADD/s, redis ${cores.redis} cores`);
  return [
    {
      id: 'xadd_native',
      what: 'Redis pipelined XADD ceiling, C client (redis-benchmark -P 500)',
      value: rate,
      unit: 'events/s',
      target: 'reference',
      pass: null,
      note: `${n.toLocaleString('en-US')} XADDs; Redis used ${cores.redis} cores; other processes ${cores.other}`,
      details: { cpuCores: cores },
    },
  ];
}
