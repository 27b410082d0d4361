/**
 * The ceiling every throughput ratio is measured against: Redis's own pipelined XADD rate from
 * its C client, `redis-benchmark -P 16` with one 250-byte field, on the run's Redis, read
 * before and after the load sections; the mean of the readings is the baseline of every row
 * with `vsCeiling`. This machine's speed varies by 2× within a day: only a ratio to a ceiling
 * read in the same run compares across runs.
 *
 * Also the same XADDs from Node (ioredis, PayFlux-shaped payloads), a reference for what a Node
 * client costs per XADD.
 */
import { resetRedis, round3 } from './context.js';
import { newTag, storedPayloads } from './events.js';
import { cpuColumn, cpuCost, costNote, cpuMeter, redisCommandStats } from './observe.js';
import { runCommand } from './processes.js';
import { pipelinedXadd } from './redis-load.js';

const PIPELINE = 16;
// redis-benchmark's default; with 16 commands each, 800 XADDs are in flight.
const CLIENTS = 50;
const FIELD_BYTES = 250;
const KEY = 'bench:ceiling:events';

export const CEILING_WHAT = `C-client XADD ceiling (redis-benchmark -P ${PIPELINE}, ${FIELD_BYTES}-byte field)`;

/**
 * One reading of the ceiling, `when` = 'before' | 'after'. redis-benchmark passes `*` through
 * as written, so Redis assigns every entry's id; it rewrites `__rand_int__` only with `-r`,
 * which is not used (the value holds no such text). Bounded by `-n` and a 120 s kill.
 */
export async function measureCeiling(ctx, when) {
  const o = ctx.opts;
  await resetRedis(ctx);
  const value = storedPayloads(newTag(), 0, 1, Date.now(), 0)[0].padEnd(FIELD_BYTES, ' ').slice(0, FIELD_BYTES);
  const n = o.quick ? 300_000 : 2_000_000;
  const port = ctx.redisAddr.split(':')[1];
  const args = ['-h', '127.0.0.1', '-p', port, '-c', String(CLIENTS), '-P', String(PIPELINE), '-n', String(n)];
  const meter = cpuMeter({ redis: ctx.redisPid }, { reaped: 'loadgen' });
  const r = await runCommand('redis-benchmark', [...args, '--csv', 'XADD', KEY, '*', 'e', value], {
    cwd: ctx.workDir,
    timeoutMs: 120_000,
  });
  const seconds = meter.elapsed();
  const cores = meter.read();
  const m = /"([\d.]+)","[\d.]+","[\d.]+","[\d.]+","[\d.]+","[\d.]+","[\d.]+"\s*$/.exec(r.stdout.trim());
  const xlen = await ctx.redis.xlen(KEY);
  await ctx.redis.del(KEY);
  const id = `ceiling_${when}`;
  const what = `${CEILING_WHAT}, ${when} the load sections`;
  if (r.code !== 0 || !m || xlen !== n) {
    return {
      id,
      what,
      skipped: true,
      note: `redis-benchmark unavailable or failed (exit ${r.code}, XLEN ${xlen} of ${n}): ${r.stderr.trim().slice(0, 160)}`,
    };
  }
  const rate = Number(m[1]);
  const cost = cpuCost({ redis: cores.redis, loadgen: cores.loadgen }, seconds, n, ctx.cores);
  ctx.log(
    `ceiling (${when}): ${Math.round(rate).toLocaleString('en-US')} XADD/s from redis-benchmark; cores ${JSON.stringify(cores)}`,
  );
  return {
    id,
    what,
    value: rate,
    unit: 'events/s',
    target: 'reference',
    pass: null,
    cpu: cpuColumn({ ...cost, cores }),
    note: `${n.toLocaleString('en-US')} XADDs, ${CLIENTS} connections; XLEN checked; the load generator is redis-benchmark; ${costNote(cost)}`,
    details: { command: `redis-benchmark ${args.join(' ')} XADD ${KEY} * e <${FIELD_BYTES} bytes>`, cpuCores: cores },
  };
}

/**
 * Fill in every `vsCeiling` row from the ceiling readings: baseline = their mean, ratio, and,
 * where `vsCeiling` is a number (the least ratio the target allows), the target and the
 * verdict (its `ok`, the row's own checks, and the ratio). Rows with `vsCeiling: true` only get
 * the ratio (references). Returns the mean, or undefined when no reading exists.
 */
export function applyCeiling(results) {
  const readings = results.filter((r) => r.id.startsWith('ceiling_') && !r.skipped).map((r) => r.value);
  const mean = readings.length === 0 ? undefined : readings.reduce((s, x) => s + x, 0) / readings.length;
  for (const r of results) {
    if (r.vsCeiling === undefined || r.skipped) continue;
    const min = typeof r.vsCeiling === 'number' ? r.vsCeiling : undefined;
    if (min !== undefined) r.target = `≥ ${min} × ceiling${r.targetMore ?? ''}`;
    if (mean === undefined) {
      if (min !== undefined) r.pass = false;
      r.note = `no ceiling reading (redis-benchmark missing or failed): no ratio; ${r.note ?? ''}`;
      continue;
    }
    r.baseline = mean;
    r.baselineWhat = `C-client XADD ceiling, mean of ${readings.length}`;
    r.ratio = r.value / mean;
    if (min !== undefined) r.pass = r.ok !== false && r.ratio >= min;
    // A floor row: the most the design allows, against the least its target asks.
    if (r.floorFor !== undefined)
      r.note = `${r.ratio < r.floorFor ? 'target above this floor: out of reach for this design on this machine' : 'target under this floor'}; ${r.note}`;
  }
  const after = results.find((r) => r.id === 'ceiling_after' && !r.skipped);
  const before = results.find((r) => r.id === 'ceiling_before' && !r.skipped);
  if (after && before)
    after.note = `mean of the two readings ${Math.round(mean).toLocaleString('en-US')} XADD/s (after/before ${(after.value / before.value).toFixed(2)}); ${after.note}`;
  return mean;
}

/** Pipelined XADD from this process (ioredis), PayFlux-shaped entries: a reference row. */
export async function benchXaddNode(ctx) {
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
  const cpu = meter.read();
  const cost = cpuCost(cpu, meter.elapsed(), r.added, ctx.cores);
  const rate = r.added / r.seconds;
  ctx.log(
    `xadd (ioredis): ${Math.round(rate).toLocaleString('en-US')} XADD/s (${r.added} in ${r.seconds.toFixed(1)}s, pipelines of 500, 4 in flight)`,
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
      what: 'pipelined XADD from Node (ioredis, pipelines of 500, PayFlux-shaped entries)',
      value: rate,
      unit: 'events/s',
      vsCeiling: true,
      target: 'reference',
      pass: null,
      cpu: cpuColumn({ ...cost, cores: cpu }),
      note: costNote(cost),
      details,
    },
  ];
}
