/**
 * Ceilings on this machine (bench/floors.mjs): how fast each throughput target could go if
 * everything but the work the design cannot skip cost nothing. A target above its ceiling
 * cannot be met on this hardware by any implementation of that design.
 */
import { join } from 'node:path';
import { ROOT, runScript } from './processes.js';
import { resetRedis } from './context.js';

// [id, name, the target's least ratio to the XADD ceiling (or absolute events/s), what bounds it]
const TARGETS = [
  ['batch', 'batch ingest', { ratio: 0.3 }, 'Redis CPU of the atomic dedup + append per event'],
  ['e2e', 'end-to-end', { ratio: 0.2 }, 'Redis CPU of append + XREADGROUP + XACK per event, one Redis thread'],
  [
    'drain',
    'drain',
    { ratio: 0.4 },
    'XREADGROUP + XACK in Redis plus JSON.parse in the consumer, taking turns (one batch in flight)',
  ],
  ['backtest', 'backtest', { eventsPerSec: 300_000 }, 'JSON.parse + validation of each line, on both cores'],
];

export async function benchFloors(ctx) {
  await resetRedis(ctx);
  ctx.log('floors: running bench/floors.mjs');
  const port = ctx.redisAddr.split(':')[1];
  const r = await runScript(join(ROOT, 'bench', 'floors.mjs'), [port, ...(ctx.opts.quick ? ['--quick'] : [])], {
    cwd: ROOT,
    timeoutMs: 300_000,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let j;
  try {
    j = JSON.parse(last);
  } catch {
    throw new Error(`bench/floors.mjs failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
  const costs = Object.entries(j.per_event_us)
    .map(([k, v]) => `${k} ${v} µs`)
    .join(', ');
  return TARGETS.map(([id, name, target, basis]) => {
    const row = {
      id: `floor_${id}`,
      what: `ceiling for ${name} on this machine (${basis})`,
      value: j.ceilings[id],
      unit: 'events/s',
      pass: null,
      note: `per event: ${costs}`,
      details: j,
    };
    if (target.ratio !== undefined)
      return { ...row, vsCeiling: true, floorFor: target.ratio, target: `info (${name} target ≥ ${target.ratio}×)` };
    const reach = j.ceilings[id] < target.eventsPerSec ? 'target above this floor' : 'target under this floor';
    return {
      ...row,
      target: `info (${name} target ${target.eventsPerSec.toLocaleString('en-US')} events/s)`,
      note: `${reach}; ${row.note}`,
    };
  });
}
